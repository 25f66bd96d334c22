import XCTest
@testable import MPLanguage

/// Deep recursion in mp programs and deep nesting in their text end in mp
/// errors, never in a native stack overflow.
final class DeepNestingTests: XCTestCase {
  func run(_ interp: Interpreter, _ source: String) -> MPError? {
    do {
      try interp.runEntry(source, file: "deep.mp")
      return nil
    } catch let e as MPError {
      return e
    } catch {
      XCTFail("not an MPError: \(error)")
      return nil
    }
  }

  func quietInterpreter() -> Interpreter {
    let interp = Interpreter(mainFile: "deep.mp")
    interp.main.set("print", .builtin(Builtin("print", 0, -1, "") { _, _ in .nil }))
    return interp
  }

  func assertRecursionError(_ e: MPError?, file: StaticString = #filePath, line: UInt = #line) {
    guard let e else { return XCTFail("expected a recursion error, the program succeeded", file: file, line: line) }
    XCTAssertEqual(e.kind, .recursion, e.render(), file: file, line: line)
    XCTAssertTrue(e.message.hasPrefix("recursion depth exceeded"), e.message, file: file, line: line)
    XCTAssertNotNil(e.loc, file: file, line: line)
  }

  // MARK: recursion at run time

  func testRecursionCalled100000DeepEndsInARecursionError() {
    let interp = quietInterpreter()
    let e = run(interp, """
      fn down(n) {
        if n == 0 { return 0 }
        return 1 + down(n - 1)
      }
      let r = down(100000)
      """)
    assertRecursionError(e)
    XCTAssertEqual(e?.loc?.line, 3)
    XCTAssertEqual(e?.trace.first?.function, "down")
  }

  func testTheInterpreterStillWorksAfterARecursionError() {
    let interp = quietInterpreter()
    assertRecursionError(run(interp, "fn down(n) { if n == 0 { return 0 }\n return 1 + down(n - 1) }\ndown(100000)"))
    XCTAssertNil(run(interp, "let ok = down(200)\nassert(ok == 200)"))
    assertRecursionError(run(interp, "down(100000)"))
    XCTAssertNil(run(interp, "assert(down(300) == 300)"))
  }

  func testTailPositionRecursionIsBoundedToo() {
    assertRecursionError(run(quietInterpreter(), "fn loop(n) { return loop(n + 1) }\nloop(0)"))
  }

  func testMutualRecursionIsBounded() {
    assertRecursionError(run(quietInterpreter(), """
      fn ping(n) { return pong(n + 1) }
      fn pong(n) { return ping(n + 1) }
      ping(0)
      """))
  }

  func testRecursionThroughAnonymousFunctionsIsBounded() {
    assertRecursionError(run(quietInterpreter(), """
      let f = nil
      f = fn(n) => f(n + 1) + 1
      f(0)
      """))
  }

  func testRecursionThroughABuiltinCallbackIsBounded() {
    let e = run(quietInterpreter(), "fn key(x) { return sorted([1, 2], key) }\nkey(1)")
    XCTAssertEqual(e?.kind, .recursion)
    let e2 = run(quietInterpreter(), "fn k(x) {\n  let xs = [2, 1]\n  xs.sort(k)\n  return x\n}\nk(1)")
    XCTAssertEqual(e2?.kind, .recursion)
  }

  func testRecursionThroughADefaultParameterIsBounded() {
    assertRecursionError(run(quietInterpreter(), "fn f(a = f()) { return 1 }\nf()"))
  }

  func testRecursionWithWideFramesIsBounded() {
    // 300 locals per frame: the value stack, not only the call count, must be guarded.
    var body = ""
    for i in 0..<300 { body += "  let v\(i) = n\n" }
    assertRecursionError(run(quietInterpreter(), "fn wide(n) {\n\(body)  return wide(n + 1)\n}\nwide(0)"))
  }

  func testARecursionErrorCanBeCaughtByTheProgram() {
    let o = LanguageTestSupport.run("""
      fn down(n) { return down(n + 1) }
      try { down(0) } catch e { print(e["kind"]) }
      fn count(n) { if n == 0 { return 0 }
        return 1 + count(n - 1) }
      print(count(1000))
      """)
    XCTAssertNil(o.error)
    XCTAssertEqual(o.lines, ["recursion", "1000"])
  }

  // MARK: nesting in the program text

  func assertTooDeep(_ source: String, file: StaticString = #filePath, line: UInt = #line) {
    do {
      _ = try Parser.parse(source, file: "deep.mp")
      XCTFail("deep nesting was accepted", file: file, line: line)
    } catch let e as MPError {
      XCTAssertEqual(e.kind, .syntax, file: file, line: line)
      XCTAssertEqual(e.message, "program nested too deeply (more than 200 levels)", file: file, line: line)
      XCTAssertNotNil(e.loc, file: file, line: line)
    } catch {
      XCTFail("not an MPError: \(error)", file: file, line: line)
    }
  }

  func testTenThousandOpenParenthesesAreASyntaxErrorNotACrash() {
    assertTooDeep(String(repeating: "(", count: 10_000))
    assertTooDeep("let x = " + String(repeating: "(", count: 10_000) + "1" + String(repeating: ")", count: 10_000))
  }

  func testTheNestingLimitIsReportedWhereItIsCrossed() {
    do {
      _ = try Parser.parse("let x = " + String(repeating: "(", count: 300) + "1" + String(repeating: ")", count: 300), file: "deep.mp")
      XCTFail("accepted")
    } catch let e as MPError {
      XCTAssertEqual(e.loc?.line, 1)
      XCTAssertEqual(e.loc?.column, 9 + 200)
    } catch {
      XCTFail("\(error)")
    }
  }

  func testNestingJustUnderTheLimitIsAccepted() {
    let src = "let x = " + String(repeating: "(", count: 150) + "1" + String(repeating: ")", count: 150)
    XCTAssertNoThrow(try Parser.parse(src, file: "deep.mp"))
    let o = LanguageTestSupport.run(src + "\nprint(x)")
    XCTAssertEqual(o.lines, ["1"])
  }

  func testTenThousandOpenBracketsAndMapsAreSyntaxErrors() {
    assertTooDeep(String(repeating: "[", count: 10_000))
    assertTooDeep(String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000))
    assertTooDeep("let m = " + String(repeating: "{\"k\": ", count: 10_000) + "1" + String(repeating: "}", count: 10_000))
    assertTooDeep(String(repeating: "f(", count: 10_000))
    assertTooDeep("x" + String(repeating: "[x", count: 10_000))
  }

  func testTenThousandNestedBlocksAreASyntaxError() {
    assertTooDeep(String(repeating: "if true {\n", count: 10_000) + String(repeating: "}\n", count: 10_000))
    assertTooDeep(String(repeating: "while x { ", count: 10_000))
    assertTooDeep(String(repeating: "fn f() { ", count: 10_000))
  }

  func testTenThousandPrefixOperatorsAreASyntaxError() {
    assertTooDeep("let x = " + String(repeating: "not ", count: 10_000) + "true")
    assertTooDeep("let x = " + String(repeating: "- ", count: 10_000) + "1")
    assertTooDeep("let f = " + String(repeating: "fn() => ", count: 10_000) + "1")
  }

  func testDeeplyNestedInterpolationIsBounded() {
    // Each level is a string whose hole holds the next string.
    var s = "1"
    for _ in 0..<3000 { s = "(\"{" + s + "}\")" }
    do {
      _ = try Parser.parse("let x = " + s, file: "deep.mp")
      XCTFail("accepted 3,000 nested interpolations")
    } catch let e as MPError {
      XCTAssertEqual(e.kind, .syntax)
      XCTAssertNotNil(e.loc)
    } catch {
      XCTFail("\(error)")
    }
  }

  func testAFlatChainUpToTheLimitCompilesAndRuns() {
    // Chains build trees as deep as they are long, which later phases walk
    // recursively: up to Parser.maxChainLength (1,000 for embedders on an
    // 8 MiB stack; the mp executable raises it on its 1 GiB stack) they work.
    let o = LanguageTestSupport.run("let x = 1" + String(repeating: " + 1", count: 999) + "\nprint(x)")
    XCTAssertNil(o.error)
    XCTAssertEqual(o.lines, ["1000"])
    XCTAssertNoThrow(try Parser.parse("f" + String(repeating: "()", count: 999), file: "deep.mp"))
    XCTAssertNoThrow(try Parser.parse("a" + String(repeating: ".b", count: 999), file: "deep.mp"))
  }

  func testAChainPastTheLimitIsRefusedWithAMessage() throws {
    for src in ["let x = 1" + String(repeating: " + 1", count: 10_000),
                "f" + String(repeating: "()", count: 10_000),
                "a" + String(repeating: ".b", count: 10_000),
                "let x = 1" + String(repeating: " * 1", count: 100_000)] {
      XCTAssertThrowsError(try Parser.parse(src, file: "deep.mp")) { e in
        let err = e as? MPError
        XCTAssertEqual(err?.kind, .syntax)
        XCTAssertTrue(err?.message.hasPrefix("expression too long: more than 1000 operators in a row") ?? false,
                      err?.message ?? "\(e)")
        XCTAssertNotNil(err?.loc)
      }
    }
  }

  func testAListNested100000DeepIsReleasedWithoutOverflowingTheStack() {
    let o = LanguageTestSupport.run("let a = []\nfor i in range(100000) { a = [a] }\nprint(\"built\")\na = nil\nprint(\"freed\")")
    XCTAssertNil(o.error, o.error?.render() ?? "")
    XCTAssertEqual(o.lines, ["built", "freed"])
  }

  func testComparingListsNested30000DeepGivesAnAnswerOrARecursionError() {
    let o = LanguageTestSupport.run("""
      let a = []
      let b = []
      for i in range(30000) {
        a = [a]
        b = [b]
      }
      try { print(a == b) } catch e { print(e["kind"]) }
      try { print(a < b) } catch e { print(e["kind"]) }
      try { print(a in [b]) } catch e { print(e["kind"]) }
      """)
    XCTAssertNil(o.error, o.error?.render() ?? "")
    XCTAssertEqual(o.lines.count, 3)
    for line in o.lines { XCTAssertTrue(["true", "false", "recursion"].contains(line), line) }
  }

  func testComparingTwoSelfContainingListsIsARecursionErrorNotACrash() {
    for op in ["a == b", "a != b", "a < b", "a in [b]", "[b].index(a)", "sorted([a, b])"] {
      let o = LanguageTestSupport.run("""
        let a = [1]
        a.push(a)
        let b = [1]
        b.push(b)
        let m = {}
        m["m"] = m
        try { print(\(op)) } catch e { print(e["kind"]) }
        """)
      XCTAssertNil(o.error, o.error?.render() ?? "")
      XCTAssertEqual(o.lines, ["recursion"], op)
    }
    let maps = LanguageTestSupport.run("""
      let a = {}
      a["x"] = a
      let b = {}
      b["x"] = b
      try { print(a == b) } catch e { print(e["kind"]) }
      print(a == a)
      """)
    XCTAssertEqual(maps.lines, ["recursion", "true"])
  }
}

extension DeepNestingTests {
  func testARecursionErrorShowsACondensedCallStack() {
    let e = run(quietInterpreter(), "fn down(n) { return down(n + 1) }\ndown(0)")
    XCTAssertEqual(e?.kind, .recursion)
    let text = e?.render() ?? ""
    // Thousands of identical frames fold into one line, as Python does.
    XCTAssertLessThan(text.split(separator: "\n").count, 12, text)
    XCTAssertTrue(text.contains("  at down (deep.mp:1:21)\n"), text)
    XCTAssertTrue(text.contains("the same call repeated"), text)
    XCTAssertTrue(text.hasSuffix("  at <top level> (deep.mp:2:1)\n"), text)
  }
}
