import XCTest
@testable import MPLanguage

/// Compiling is linear in the nesting of an expression: the compiler used
/// to compile a side of an operator to look at it and then again for the
/// general path, doubling its work at every level (libFuzzer found a
/// 154-byte line that never finished). The bound is generous — 2^60 steps
/// can never meet it, a linear compile always does.
final class CompileCostTests: XCTestCase {
  /// Runs `source` and returns how long it took, failing on a foreign error.
  func timed(_ source: String) -> (Double, LanguageTestSupport.Outcome) {
    let start = Date()
    let out = LanguageTestSupport.run(source)
    XCTAssertNil(out.foreign)
    return (Date().timeIntervalSince(start), out)
  }

  func testTheFuzzersOperatorLineCompilesAtOnce() {
    let line = (0..<60).map { $0 % 3 == 0 ? "x // y" : $0 % 3 == 1 ? "y" : "x" }.joined(separator: " | ")
    let (t, out) = timed("let x = 7\nlet y = 2\nprint(\(line))")
    XCTAssertEqual(out.lines, ["7"])
    XCTAssertLessThan(t, 10, "a line of 60 operands took \(t) s to compile and run")
  }

  func testFortyLevelsOfEachNestingShapeCompileAtOnce() {
    // Each shape looked at its operands and then compiled them again:
    // an operator that does not specialise, an index whose list is not a
    // local, an index into a local list by a computed key — in a value, a
    // condition, a compound and an indexed assignment.
    for shape in ["(E | y)", "[E][0]", "xs[E % 2]", "(y // E)", "(E + y)"] {
      var e = "x"
      for _ in 0..<40 { e = shape.replacingOccurrences(of: "E", with: e) }
      let source = """
        fn f(x, y) {
          let xs = [1, 2]
          let z = \(e)
          if \(e) > 0 { z += \(e) }
          xs[0] = \(e)
          return z
        }
        print(type(f(1, 1)))
        """
      let (t, out) = timed(source)
      XCTAssertEqual(out.lines, ["int"], "\(shape): \(out.error?.render() ?? "")")
      XCTAssertLessThan(t, 10, "40 levels of \(shape) took \(t) s to compile and run")
    }
  }
}
