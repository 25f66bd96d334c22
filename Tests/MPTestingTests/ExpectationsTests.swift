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
      # expect: middle
      # expect unordered: d
      """
    XCTAssertEqual(Expectations.parse(src).steps, [.line("start"), .unordered(["a", "b"]), .line("middle"), .unordered(["d"])])
  }

  func testAnyOtherLineEndsAnUnorderedGroup() {
    // A plain comment or a blank line between them starts a new group: the
    // teacher sees where each group ends.
    let src = "# expect unordered: a\n# a plain comment\n# expect unordered: b\n\n# expect unordered: c\n"
    XCTAssertEqual(Expectations.parse(src).steps, [.unordered(["a"]), .unordered(["b"]), .unordered(["c"])])
  }

  func testAHashInsideAStringIsNotAComment() {
    let src = """
      print("colour #1 is red")   # expect: colour #1 is red
      let doc = "write # expect: LINE"
      let other = 'and # expect error: boom'
      """
    let e = Expectations.parse(src)
    XCTAssertEqual(e.steps, [.line("colour #1 is red")])
    XCTAssertTrue(e.errors.isEmpty)
    XCTAssertNotNil(e.check(stdout: "colour #1 is BLUE\n", stderr: "", exitStatus: 0))
  }

  func testCommentsAfterALexicalErrorAreStillRead() {
    let e = Expectations.parse("let s = \"unterminated\n# expect error: unterminated\n")
    XCTAssertEqual(e.errors, ["unterminated"])
  }

  func testMatchLinesMatchTheWholeLine() {
    let e = Expectations.parse("# expect match: wall \\d+\\.\\d\\d s\n")
    XCTAssertEqual(e.steps, [.line(.match("wall \\d+\\.\\d\\d s"))])
    XCTAssertNil(e.check(stdout: "wall 1.36 s\n", stderr: "", exitStatus: 0))
    XCTAssertNotNil(e.check(stdout: "wall 1.36 s!\n", stderr: "", exitStatus: 0))
    XCTAssertNotNil(e.check(stdout: "the wall 1.36 s\n", stderr: "", exitStatus: 0))
  }

  func testUnorderedMatchLinesPairWithDistinctLines() {
    let src = """
      # expect unordered match: >process \\d got the lock, sleeping for 0\\.\\d{3}
      # expect unordered: >process 1 got the lock, sleeping for 0.500
      """
    let e = Expectations.parse(src)
    // The pattern could take either line; it must leave the exact one its line.
    XCTAssertNil(e.check(stdout: ">process 1 got the lock, sleeping for 0.500\n>process 0 got the lock, sleeping for 0.417\n", stderr: "", exitStatus: 0))
    let r = e.check(stdout: ">process 0 got the lock, sleeping for 0.417\n>process 2 got the lock, sleeping for 0.1\n", stderr: "", exitStatus: 0)
    XCTAssertTrue(r?.contains("missing:    >process 1") ?? false, r ?? "passed")
  }

  func testABadRegularExpressionFailsTheFile() {
    let e = Expectations.parse("# expect match: (unclosed\n")
    let r = e.check(stdout: "(unclosed\n", stderr: "", exitStatus: 0)
    XCTAssertTrue(r?.contains("bad regular expression") ?? false, r ?? "passed")
  }

  func testStderrLinesAreFoundAnywhereInStderr() {
    let e = Expectations.parse("# expect stderr: never joined\n# expect stderr match: time: wall [0-9.]+ s.*\n")
    XCTAssertNil(e.check(stdout: "", stderr: "time: wall 0.501 s | cpu 0.001 s\nmp: process 12 (f) was never joined\n", exitStatus: 0))
    let r = e.check(stdout: "", stderr: "time: wall 0.501 s\n", exitStatus: 0)
    XCTAssertTrue(r?.contains("containing: never joined") ?? false, r ?? "passed")
  }

  func testExpectErrorMatchesTheKind() {
    let e = Expectations.parse("# expect error: deadlock\n")
    let stderr = "t.mp:3:1: error: locks are not reentrant\n"
    XCTAssertNil(e.check(stdout: "", stderr: stderr, exitStatus: 1, errorKind: "deadlock"))
    let r = e.check(stdout: "", stderr: stderr, exitStatus: 1, errorKind: "value")
    XCTAssertTrue(r?.contains("kind \"value\"") ?? false, r ?? "passed")
  }

  func testAFileThatChecksNothingIsRecognised() {
    XCTAssertFalse(Expectations.parse("print(1)\n# just a comment\nlet s = \"assert(x)\"\n").checksSomething)
    XCTAssertTrue(Expectations.parse("assert(1 == 1, \"ok\")\n").checksSomething)
    XCTAssertTrue(Expectations.parse("# expect no output\n").checksSomething)
    XCTAssertTrue(Expectations.parse("# mp test: must fail\n").checksSomething)
    XCTAssertTrue(Expectations.parse("# mp test: skip (a helper)\n").isSkipped)
  }

  func testNoOutputMeansStdoutIsEmpty() {
    let e = Expectations.parse("# expect no output\n")
    XCTAssertNil(e.check(stdout: "", stderr: "", exitStatus: 0))
    XCTAssertNotNil(e.check(stdout: "hello\n", stderr: "", exitStatus: 0))
  }

  func testMustFailAcceptsAnyFailure() {
    let e = Expectations.parse("# mp test: must fail\n")
    XCTAssertNil(e.check(stdout: "", stderr: "boom", exitStatus: 1))
    XCTAssertNotNil(e.check(stdout: "", stderr: "", exitStatus: 0))
  }

  func testAGroupWrittenAsTwoKindsDrawsAWarning() {
    let two = """
      # expect unordered: Sleeping for 0.5 seconds
      # expect unordered: Sleeping for 0.5 seconds
      # expect unordered: Finished sleeping
      # expect unordered: Finished sleeping
      """
    XCTAssertEqual(Expectations.parse(two).warnings.count, 1)
    let interleaved = """
      # expect unordered: Sleeping for 0.5 seconds
      # expect unordered: Finished sleeping
      # expect unordered: Sleeping for 0.5 seconds
      # expect unordered: Finished sleeping
      """
    XCTAssertEqual(Expectations.parse(interleaved).warnings, [])
    let oneKind = "# expect unordered: got 1\n# expect unordered: got 2\n# expect unordered: got 3\n"
    XCTAssertEqual(Expectations.parse(oneKind).warnings, [])
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

  func testOutputThatStopsEarlyIsOneProblemNotOnePerLine() throws {
    let e = Expectations(steps: [.line("a"), .line("b"), .line("c"), .unordered(["d", "e"])])
    let r = try XCTUnwrap(e.check(stdout: "a\n", stderr: "", exitStatus: 0))
    XCTAssertEqual(r, "the output ended after 1 line; 4 more expected, the next: b")
  }

  func testAFailedAssertIsReportedFirstByItsMessageAlone() throws {
    let e = Expectations(steps: [.line("x"), .line("y"), .line("z")])
    let stderr = "t.mp:3:1: error: assertion failed: ten sleepers took 10.0 s\n    assert(took < 3)\n    ^\n  at main (t.mp:3:1)\n"
    let r = try XCTUnwrap(e.check(stdout: "q\n", stderr: stderr, exitStatus: 1, errorKind: "assert"))
    let lines = r.split(separator: "\n").map(String.init)
    XCTAssertEqual(lines[0], "exited with status 1 (an error of kind \"assert\"):")
    XCTAssertTrue(lines[1].hasSuffix("ten sleepers took 10.0 s"), r)
    XCTAssertFalse(r.contains("at main"), r)
    XCTAssertTrue(r.contains("(and 1 more difference in stdout after that)"), r)
  }
}
