import XCTest
@testable import MPLanguage

/// Diagnostics that were judged wrong or unclear, so they are not enshrined
/// in ErrorMessageCorpusTests. Each entry says what is wrong; the test skips
/// (with the list) while the flaw is present, and passes once every one is
/// fixed, at which point the case belongs in the corpus with its new text.
final class KnownBadMessagesTests: XCTestCase {
  struct BadCase {
    let program: String
    /// Text whose presence in the rendered error shows the flaw is still there.
    let flawMarker: String
    let whatIsWrong: String
  }

  static let cases: [BadCase] = [
    BadCase(program: "fn return() { }", flawMarker: "expected '(' before the parameters",
            whatIsWrong: "a keyword as a function name should say keywords cannot be names, not ask for '('"),
    BadCase(program: "let x = 2 ** 3", flawMarker: "found '*'",
            whatIsWrong: "'**' gives 'expected an expression, found '*'' with no hint that mp has no power operator"),
    BadCase(program: "let m = {}\nm.get(\"f\")()", flawMarker: "t.mp:2:6:",
            whatIsWrong: "calling nil puts the caret under the '(' of the inner get( call, not the failing call"),
    BadCase(program: "fn f(a = 1 // 0) { }\nf()", flawMarker: "^",
            whatIsWrong: "an error in a default value has no call stack: no 'at f' and no 'at <top level> (t.mp:2:1)'"),
    BadCase(program: "let s = \"{1 + 2\"", flawMarker: "unterminated string",
            whatIsWrong: "an unclosed '{' in a closed string is reported as an unterminated string"),
    BadCase(program: "fn f(a = f()) { return 1 }\nf()", flawMarker: "(0 nested calls",
            whatIsWrong: "recursion through a default value says '0 nested calls' (the depth is not counted while defaults run)"),
    BadCase(program: "let a = [1]\na.push(a)\nlet b = [1]\nb.push(b)\nprint(a == b)", flawMarker: "error: recursion depth exceeded while comparing",
            whatIsWrong: "the recursion error from == on self-containing lists has no path:line:col and no source line"),
  ]

  func testKnownBadMessagesAreStillListed() throws {
    var present: [String] = []
    for c in KnownBadMessagesTests.cases {
      guard let (_, text) = LanguageTestSupport.renderedError(c.program) else { continue }
      if c.program.hasPrefix("fn f(a = 1 // 0)") {
        if !text.contains("  at ") { present.append("\(c.program)\n  -> \(c.whatIsWrong)") }
      } else if c.program.hasSuffix("print(a == b)") {
        if text.hasPrefix(c.flawMarker) { present.append("\(c.program)\n  -> \(c.whatIsWrong)") }
      } else if text.contains(c.flawMarker) {
        present.append("\(c.program)\n  -> \(c.whatIsWrong)")
      }
    }
    if !present.isEmpty {
      throw XCTSkip("known bad diagnostics (not enshrined):\n" + present.joined(separator: "\n"))
    }
  }

  func testAStepLimitStopSaysWhereTheProgramWas() throws {
    let o = LanguageTestSupport.run("let i = 0\nwhile true {\n  i += 1\n}", stepLimit: 1_000)
    XCTAssertEqual(o.error?.kind, "timeout")
    XCTAssertEqual(o.error?.message, "step limit reached")
    if o.error?.loc == nil {
      // Bug (reported): the periodic tick that enforces the step limit (and
      // notices Ctrl-C: `mp` prints a bare "error: interrupted") raises its
      // error without a location, so it renders as "error: step limit
      // reached" with no path:line:col, source line or caret.
      throw XCTSkip("bug: step-limit and interrupt errors have no location")
    }
    XCTAssertEqual(o.error?.loc?.file, "t.mp")
  }
}
