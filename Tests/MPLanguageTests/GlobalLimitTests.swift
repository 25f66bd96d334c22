import XCTest
@testable import MPLanguage

/// A module holds at most `ModuleScope.capacity` global names. Past that a
/// `let` must fail with a clear error, never store into another global's
/// slot (it once overwrote the built-in in slot 0).
final class GlobalLimitTests: XCTestCase {
  func testMoreGlobalsThanTheTableHoldsIsAClearErrorAndOverwritesNothing() {
    let interp = Interpreter(mainFile: "many.mp")
    let before = interp.main.definedNames.count
    let room = ModuleScope.capacity - before
    var src = ""
    for i in 0...room { src += "let g\(i) = \(i)\n" }
    let builtinsBefore = Interpreter.builtins.keys.map { interp.main.get($0).map { $0.typeName } }
    XCTAssertThrowsError(try interp.runEntry(src, file: "many.mp")) { error in
      guard let e = error as? MPError else { return XCTFail("not an MPError: \(error)") }
      XCTAssertTrue(e.message.contains("too many global names"), e.message)
      XCTAssertEqual(e.loc?.line, room + 1, "the error points at the 'let' that did not fit")
    }
    let builtinsAfter = Interpreter.builtins.keys.map { interp.main.get($0).map { $0.typeName } }
    XCTAssertEqual(builtinsBefore, builtinsAfter, "a built-in's global was overwritten")
    XCTAssertNil(interp.main.get("g0"), "nothing of the refused chunk ran")
  }
}
