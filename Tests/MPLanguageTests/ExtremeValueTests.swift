import XCTest
@testable import MPLanguage

/// Extreme numbers through every operator and number-taking built-in: each
/// combination either gives a value or an mp error of an expected kind; none
/// may trap (an unchecked overflow would kill the test process).
final class ExtremeValueTests: XCTestCase {
  static let program = #"""
let MAX = 9223372036854775807
let MIN = -9223372036854775807 - 1
let nums = [MIN, MIN + 1, -2, -1, 0, 1, 2, MAX - 1, MAX, 0.0, -0.0, 1e308, -1e308, float("inf"), float("-inf"), float("nan"), 0.5]
let ops = [fn(a, b) => a + b, fn(a, b) => a - b, fn(a, b) => a * b, fn(a, b) => a / b, fn(a, b) => a // b, fn(a, b) => a % b,
           fn(a, b) => a < b, fn(a, b) => a <= b, fn(a, b) => a == b, fn(a, b) => [a] < [b], fn(a, b) => a in [b]]
let kinds = {}
let count = 0
for a in nums {
  for b in nums {
    for op in ops {
      count += 1
      try { op(a, b) } catch e { kinds[e["kind"]] = kinds.get(e["kind"], 0) + 1 }
    }
  }
  for f in [fn(x) => -x, fn(x) => abs(x), fn(x) => int(x), fn(x) => float(x), fn(x) => round(x), fn(x) => round(x, 2),
            fn(x) => str(x), fn(x) => "{x:,}", fn(x) => "{x:x}", fn(x) => "{x:e}", fn(x) => "{x:.3f}", fn(x) => "{x:>30}",
            fn(x) => "{x:%}", fn(x) => "{x:+,d}", fn(x) => [1, 2, 3].slice(x), fn(x) => [1, 2, 3].slice(0, x), fn(x) => "abc".slice(x, x),
            fn(x) => [1, 2][x], fn(x) => "ab"[x], fn(x) => [1].pop(x), fn(x) => [1].insert(x, 0), fn(x) => "x" * x, fn(x) => [0] * x,
            fn(x) => range(x), fn(x) => x in range(10), fn(x) => range(x, x), fn(x) => sum([x, x]), fn(x) => min(x, 0), fn(x) => sorted([x, 0, -x]),
            fn(x) => randint(x, x), fn(x) => seed(x), fn(x) => {x: 1}, fn(x) => int(str(x)), fn(x) => float(str(x)), fn(x) => bool(x), fn(x) => x == x] {
    count += 1
    try { f(a) } catch e { kinds[e["kind"]] = kinds.get(e["kind"], 0) + 1 }
  }
}
for i in range(MAX - 2, MAX) { count += 1 }
for i in range(MIN + 2, MIN, -1) { count += 1 }
for i in range(0, MAX, MAX) { count += 1 }
for i in range(MIN, 0, MAX) { count += 1 }
print(count)
print(sorted(keys(kinds)))
print(len(range(0, MAX)), range(0, MAX)[-1], MAX in range(0, MAX), 5 in range(0, MAX, MAX))
print(randint(MIN, MAX) != 0.5, int("-9223372036854775808"), "{MIN:,}", abs(MIN + 1))
"""#

  func testExtremeNumbersThroughOperatorsAndBuiltinsGiveValuesOrMPErrors() {
    let o = LanguageTestSupport.run(ExtremeValueTests.program, file: "extreme.mp")
    XCTAssertNil(o.foreign)
    XCTAssertNil(o.error, o.error?.render() ?? "")
    XCTAssertEqual(o.lines.count, 4)
    guard o.lines.count == 4 else { return }
    XCTAssertEqual(o.lines[0], "3798")
    // Only these kinds may come out of arithmetic on extreme values.
    let allowed: Set<String> = ["\"overflow\"", "\"zero\"", "\"index\"", "\"value\"", "\"type\""]
    let kinds = o.lines[1].dropFirst().dropLast().split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
    XCTAssertTrue(Set(kinds).isSubset(of: allowed), o.lines[1])
    XCTAssertTrue(kinds.contains("\"overflow\"") && kinds.contains("\"zero\""), o.lines[1])
    XCTAssertEqual(o.lines[2], "9223372036854775807 9223372036854775806 false false")
    XCTAssertEqual(o.lines[3], "true -9223372036854775808 -9,223,372,036,854,775,808 9223372036854775807")
  }

  func testRangesWiderThanAnIntGiveOverflowErrorsNotTraps() {
    let o = LanguageTestSupport.run(#"""
      let MIN = -9223372036854775807 - 1
      let MAX = 9223372036854775807
      for r in [range(MIN, MAX), range(MIN, 0), range(MAX, MIN, -1), range(MIN, MAX, 2)] {
        try { print(len(r)) } catch e { print(e["kind"]) }
      }
      print(range(MIN, MAX)[5], range(MIN, MAX)[-1], range(MAX, MIN, -1)[-1])
      print(0 in range(MIN, MAX, 3), MIN in range(MIN, MAX, 3), MAX in range(MIN, MAX))
      print(-1 in range(0, MIN, MIN), 5 in range(0, 10, MIN), len(range(0, 10, MIN)))
      try { print(enumerate([1, 2], MAX)) } catch e { print(e["kind"]) }
      print(enumerate([1], MAX - 1))
      """#)
    XCTAssertNil(o.foreign)
    XCTAssertNil(o.error, o.error?.render() ?? "")
    XCTAssertEqual(o.lines, [
      "overflow", "overflow", "overflow", "overflow",
      "-9223372036854775803 9223372036854775806 -9223372036854775807",
      "false true false",
      "false false 0",
      "overflow",
      "[[9223372036854775806, 1]]",
    ])
  }

  func testEnumerateStartingAtTheLargestIntGivesThatIndex() {
    // A regression test: enumerate() once added 1 after every item,
    // including the last, so enumerate([1], 2**63 - 1) raised "overflow"
    // although the only index it needs fits.
    let o = LanguageTestSupport.run("print(enumerate([1], 9223372036854775807))")
    XCTAssertNil(o.error)
    XCTAssertEqual(o.lines, ["[[9223372036854775807, 1]]"])
  }
}
