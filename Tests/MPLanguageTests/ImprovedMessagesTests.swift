import XCTest
@testable import MPLanguage

/// Diagnostics the test corpus first found unclear or misplaced, now fixed:
/// each asserts the whole rendered message.
final class ImprovedMessagesTests: XCTestCase {
  func check(_ program: String, _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
    guard let (_, text) = LanguageTestSupport.renderedError(program) else {
      return XCTFail("expected an error", file: file, line: line)
    }
    XCTAssertEqual(text, expected, file: file, line: line)
  }

  func testAKeywordAfterFnSaysKeywordsCannotBeNames() {
    check("fn return() { }", """
      t.mp:1:4: error: expected a function name or '(' after 'fn', found keyword 'return' (keywords cannot be names)
          fn return() { }
             ^
      """)
  }

  func testPowerOperatorGetsAHint() {
    check("let x = 2 ** 3", """
      t.mp:1:12: error: expected an expression, found '*' (mp has no '**'; use pow(a, b))
          let x = 2 ** 3
                     ^
      """)
  }

  func testCallingTheResultOfACallPointsAtThatCall() {
    check("let m = {}\nm.get(\"f\")()", """
      t.mp:2:11: error: cannot call a value of type nil (it is not a function)
          m.get("f")()
                    ^
      """)
  }

  func testAnErrorInADefaultValueShowsTheCall() {
    check("fn f(a = 1 // 0) { }\nf()", """
      t.mp:1:12: error: integer division by zero
          fn f(a = 1 // 0) { }
                     ^
        at f (t.mp:1:12)
        at <top level> (t.mp:2:1)
      """)
  }

  func testAnUnclosedBraceInAClosedStringSaysSo() {
    check("let s = \"{1 + 2\"", """
      t.mp:1:10: error: '{' in a string is not closed by '}' (write '\\{' for a literal brace)
          let s = "{1 + 2"
                   ^
      """)
  }

  func testRecursionThroughADefaultValueDoesNotClaimZeroCalls() throws {
    let (e, text) = try XCTUnwrap(LanguageTestSupport.renderedError("fn f(a = f()) { return 1 }\nf()"))
    XCTAssertEqual(e.kind, .recursion)
    XCTAssertFalse(text.contains("(0 nested calls"), text)
  }

  func testEqualityOfSelfContainingListsIsLocated() {
    check("let a = [1]\na.push(a)\nlet b = [1]\nb.push(b)\nprint(a == b)", """
      t.mp:5:9: error: recursion depth exceeded while comparing nested lists
          print(a == b)
                  ^
      """)
  }

  func testAStepLimitStopSaysWhereTheProgramWas() throws {
    let o = LanguageTestSupport.run("let i = 0\nwhile true {\n  i += 1\n}", stepLimit: 1_000)
    XCTAssertEqual(o.error?.kind, .timeout)
    XCTAssertEqual(o.error?.message, "step limit reached")
    XCTAssertEqual(o.error?.loc?.file, "t.mp")
    XCTAssertEqual(o.error?.loc?.line, 2)
  }

  /// Calls count as steps on their own: recursion without a single loop
  /// (2^40 calls here) is stopped too, so Ctrl-C reaches it the same way.
  func testAStepLimitStopsRecursionWithoutLoops() throws {
    let src = "fn f(n) {\n  if n == 0 { return 0 }\n  return f(n - 1) + f(n - 1)\n}\nprint(f(40))"
    let o = LanguageTestSupport.run(src, stepLimit: 100_000)
    XCTAssertEqual(o.error?.kind, .timeout)
    XCTAssertEqual(o.error?.message, "step limit reached")
    XCTAssertEqual(o.error?.loc?.line, 3)
    XCTAssertTrue(o.lines.isEmpty)
  }
}
