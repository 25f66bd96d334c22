import MPLanguage
import XCTest

@testable import MPRepl

/// When the REPL waits for more lines (continuation prompt) and when it runs
/// what it has: the parser answers, the REPL only asks.
final class CompletenessTests: XCTestCase {
  func testCompleteStatements() {
    for text in ["let x = 1", "x * 21", "print(\"a\")", "fn f(a) {\n  return a\n}", "if x {\n} else {\n}", "", "# just a comment", "let s = \"a\nb\""] {
      XCTAssertEqual(Completeness.of(text), .complete, text)
    }
  }

  func testOpenBrackets() {
    for text in ["[1,", "f(1", "print(\n  1,", "{\"a\": 1,", "(1 +\n 2"] {
      XCTAssertEqual(Completeness.of(text), .incomplete, text)
    }
  }

  func testOpenStrings() {
    for text in ["\"abc", "'abc", "print(\"a", "\"{x", "\"a {1 +"] {
      XCTAssertEqual(Completeness.of(text), .incomplete, text)
    }
  }

  func testOpenBlocks() {
    for text in ["fn f() {", "fn f(a) {\n  return a", "if true {", "while x {\n  if y {\n  }", "try {\n}", "for x in xs {"] {
      XCTAssertEqual(Completeness.of(text), .incomplete, text)
    }
  }

  func testTrailingOperator() {
    for text in ["1 +", "let x = 2 *", "a and", "x ==", "let y ="] {
      XCTAssertEqual(Completeness.of(text), .incomplete, text)
    }
  }

  func testRealErrorsAreNotIncomplete() {
    for text in ["1 + 2)", "}", "let = 3", "fn f() { } }"] {
      XCTAssertEqual(Completeness.of(text), .invalid, text)
    }
  }

  /// The parser marks an error at the end of an interpolation hole as
  /// "input ended early"; waiting for more input there would swallow the
  /// rest of the session.
  func testBrokenInterpolationHoleIsAnErrorNotAContinuation() {
    XCTAssertEqual(Completeness.of("print(\"{1+}\")"), .invalid)
    XCTAssertEqual(Completeness.of("let s = \"{x *}\""), .invalid)
    XCTAssertEqual(Completeness.of("print(\"{1+}\",", firstLine: 7), .invalid)
    XCTAssertEqual(Completeness.of("\"{}\""), .invalid)
  }

  func testLineNumbersDoNotChangeTheAnswer() {
    XCTAssertEqual(Completeness.of("fn f() {\n  return 1", firstLine: 40), .incomplete)
    XCTAssertEqual(Completeness.of("print(\"{1+}\")", firstLine: 40), .invalid)
  }

  func testTimeCommandWaitsForItsStatement() {
    let s = Session(Interpreter(), interactive: false)
    XCTAssertTrue(s.needsMore(":time for i in range(3) {"))
    XCTAssertFalse(s.needsMore(":time for i in range(3) {\n  i\n}"))
    XCTAssertFalse(s.needsMore(":help"))
    XCTAssertFalse(s.needsMore(":load \"a.mp"))
    XCTAssertTrue(s.needsMore("fn g() {"))
  }

  func testCommandSplitting() {
    XCTAssertEqual(Session.splitCommand(":help")?.0, ":help")
    XCTAssertEqual(Session.splitCommand(":time  sleep(1) ")?.1, "sleep(1)")
    XCTAssertEqual(Session.splitCommand(":quit!")?.0, ":quit!")
    XCTAssertEqual(Session.unquote("\"a b.mp\""), "a b.mp")
    XCTAssertEqual(Session.unquote("a.mp"), "a.mp")
    XCTAssertEqual(Session.blankingCommand(":time x + 1"), "      x + 1")
  }
}
