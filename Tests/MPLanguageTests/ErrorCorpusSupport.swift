import XCTest
@testable import MPLanguage

/// The corpus's one check, shared by the syntax and runtime halves
/// (ErrorMessageCorpusTests, RuntimeErrorCorpusTests).
extension XCTestCase {
  /// Runs `source` as `mp t.mp` would and compares the whole rendered error.
  func expectError(_ source: String, syntax: Bool, _ expected: String,
                   file: StaticString = #filePath, line: UInt = #line) {
    guard let (error, text) = LanguageTestSupport.renderedError(source) else {
      XCTFail("the program ran without an error:\n\(source)", file: file, line: line)
      return
    }
    XCTAssertEqual(text, expected, "rendered error differs for:\n\(source)", file: file, line: line)
    XCTAssertNotNil(error.loc, "the error has no location", file: file, line: line)
    XCTAssertEqual(error.kind == .syntax, syntax, "kind was \(error.kind)", file: file, line: line)
  }
}
