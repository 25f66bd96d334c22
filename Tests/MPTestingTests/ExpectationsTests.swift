import XCTest
@testable import MPTesting

final class ExpectationsTests: XCTestCase {
  func testExpectLinesAreReadInOrder() {
    let e = Expectations.parse("print(1)  # expect: 1\n# expect: two words  \nx # not an expectation\n")
    XCTAssertEqual(e.steps, [.line("1"), .line("two words")])
    XCTAssertTrue(e.errors.isEmpty)
  }

  func testConsecutiveUnorderedLinesFormOneGroup() {
    let src = """
      # expect: start
      # expect unordered: a
      # expect unordered: b
      # a plain comment keeps the group open
      # expect unordered: c
      # expect: middle
      # expect unordered: d
      """
    XCTAssertEqual(Expectations.parse(src).steps, [.line("start"), .unordered(["a", "b", "c"]), .line("middle"), .unordered(["d"])])
  }

  func testCodeBetweenUnorderedLinesSplitsGroups() {
    let src = "# expect unordered: a\nprint(1)\n# expect unordered: b\n"
    XCTAssertEqual(Expectations.parse(src).steps, [.unordered(["a"]), .unordered(["b"])])
  }

  func testMatchingOutputPasses() {
    let e = Expectations(steps: [.line("x"), .unordered(["1", "2"]), .line("end")])
    XCTAssertNil(e.check(stdout: "x\n2\n1\nend\n", stderr: "", exitStatus: 0))
  }

  func testWrongLineIsReportedWithBothTexts() throws {
    let e = Expectations(steps: [.line("x"), .line("y")])
    let r = try XCTUnwrap(e.check(stdout: "x\nz\n", stderr: "", exitStatus: 0))
    XCTAssertTrue(r.contains("line 2"), r)
    XCTAssertTrue(r.contains("expected: y"), r)
    XCTAssertTrue(r.contains("got:      z"), r)
  }

  func testUnorderedGroupWithAWrongLineFails() throws {
    let e = Expectations(steps: [.unordered(["a", "b"])])
    let r = try XCTUnwrap(e.check(stdout: "a\nc\n", stderr: "", exitStatus: 0))
    XCTAssertTrue(r.contains("missing:    b"), r)
    XCTAssertTrue(r.contains("unexpected: c"), r)
  }

  func testMissingAndExtraOutputFail() {
    let e = Expectations(steps: [.line("a")])
    XCTAssertNotNil(e.check(stdout: "", stderr: "", exitStatus: 0))
    XCTAssertNotNil(e.check(stdout: "a\nb\n", stderr: "", exitStatus: 0))
  }

  func testNonZeroExitFailsUnlessAnErrorIsExpected() {
    XCTAssertNotNil(Expectations().check(stdout: "", stderr: "boom", exitStatus: 1))
    let e = Expectations.parse("# expect error: division by zero")
    XCTAssertNil(e.check(stdout: "", stderr: "t.mp:1:1: error: division by zero", exitStatus: 1))
    XCTAssertNotNil(e.check(stdout: "", stderr: "t.mp:1:1: error: other", exitStatus: 1))
    XCTAssertNotNil(e.check(stdout: "", stderr: "division by zero", exitStatus: 0))
  }

  func testTrailingSpacesAreIgnored() {
    let e = Expectations.parse("# expect: a b")
    XCTAssertNil(e.check(stdout: "a b   \n", stderr: "", exitStatus: 0))
  }
}
