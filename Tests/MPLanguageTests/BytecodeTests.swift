import XCTest
@testable import MPLanguage

/// Small functions run as register bytecode (Values/Bytecode.swift). Each
/// program here runs twice, with bytecode and with the closure compiler
/// alone (`MP_BYTECODE=0`): the printed lines and the rendered error must
/// be the same, and the lines what the program should print.
final class BytecodeTests: XCTestCase {
  /// Runs `source` both ways; checks both print `expected` and end with the same error (or none).
  private func same(_ source: String, _ expected: [String], file: StaticString = #filePath, line: UInt = #line) {
    let fast = LanguageTestSupport.run(source, bytecode: true)
    let slow = LanguageTestSupport.run(source, bytecode: false)
    XCTAssertNil(fast.foreign, file: file, line: line)
    XCTAssertEqual(fast.lines, expected, "with bytecode", file: file, line: line)
    XCTAssertEqual(slow.lines, expected, "closures only", file: file, line: line)
    XCTAssertEqual(fast.error?.render(color: false), slow.error?.render(color: false), file: file, line: line)
  }

  /// The rendered error of `source` run as a script, the same both ways; returns it.
  @discardableResult
  private func sameError(_ source: String, file: StaticString = #filePath, line: UInt = #line) -> String {
    let fast = LanguageTestSupport.renderedError(source, bytecode: true)?.1
    let slow = LanguageTestSupport.renderedError(source, bytecode: false)?.1
    XCTAssertNotNil(fast, "the program should fail", file: file, line: line)
    XCTAssertEqual(fast, slow, file: file, line: line)
    return fast ?? ""
  }

  private func proto(_ name: String, in source: String) throws -> FunctionProto {
    let interp = Interpreter(mainFile: "t.mp")
    try interp.runEntry(source, file: "t.mp")
    guard case .function(let c)? = interp.main.get(name) else {
      XCTFail("\(name) is not a function")
      throw MPError(.name, "no \(name)")
    }
    return c.proto
  }

  func testWhichFunctionsGetBytecode() throws {
    let src = """
      fn fib(n) {
        if n < 2 { return n }
        return fib(n - 1) + fib(n - 2)
      }
      fn loop(n) {
        let s = 0
        let i = 0
        while i < n { s += i; i += 1 }
        return s
      }
      fn each(xs) {
        let s = 0
        for x in xs { s += x }
        return s
      }
      fn inner() { return fn(x) => x }
      fn withDefault(a, b = 1) { return a + b }
      """
    XCTAssertNotNil(try proto("fib", in: src).bytecode)
    XCTAssertNotNil(try proto("loop", in: src).bytecode)
    XCTAssertNil(try proto("each", in: src).bytecode, "for loops stay closures")
    XCTAssertNil(try proto("inner", in: src).bytecode, "functions that make functions stay closures")
    XCTAssertNil(try proto("withDefault", in: src).bytecode, "default values stay closures")
  }

  func testArithmeticAndComparisons() {
    same("""
      fn f(a, b) {
        print(a + b, a - b, a * b, a / b, a // b, a % b, -a, a < b, a <= b, a > b, a >= b, a == b, a != b)
        return nil
      }
      f(7, 2)
      f(-7, 2)
      f(7.5, 2)
      f(2, 7.5)
      fn g(s) { return s + "!" }
      print(g("hi"), g("") == "!")
      fn k(n) { return n * 3 - 1 + n // 2 }
      print(k(10), k(2.0))
      """, [
        "9 5 14 3.5 3 1 -7 false false true true false true",
        "-5 -9 -14 -3.5 -4 1 7 true true false false false true",
        "9.5 5.5 15.0 3.75 3.0 1.5 -7.5 false false true true false true",
        "9.5 -5.5 15.0 0.26666666666666666 0.0 2.0 -2 true true false false false true",
        "hi! true",
        "34 6.0",
      ])
  }

  func testConditionsLoopsAndLogic() {
    same("""
      fn classify(n) {
        if n < 0 { return "negative" } else if n == 0 { return "zero" } else { return "positive" }
      }
      print(classify(-3), classify(0), classify(5))
      fn collatz(n) {
        let steps = 0
        while n != 1 {
          if n % 2 == 0 { n = n // 2 } else { n = 3 * n + 1 }
          steps += 1
        }
        return steps
      }
      print(collatz(27))
      fn firstOver(limit) {
        let i = 0
        while true {
          i += 1
          if i * i <= limit { continue }
          break
        }
        return i
      }
      print(firstOver(50))
      fn logic(a, b) { return [a and b, a or b, not a] }
      print(logic(0, 5), logic(3, 0), logic(nil, "x"))
      fn both(a, b) {
        if a > 0 and b > 0 { return "both" }
        if a > 0 or b > 0 { return "one" }
        return "none"
      }
      print(both(1, 1), both(1, -1), both(-1, -1))
      fn swapInto(x) {
        let y = 10
        x = y and x
        return x
      }
      print(swapInto(4), swapInto(0))
      fn nothing() { let x = 1 }
      print(nothing())
      """, [
        "negative zero positive",
        "111",
        "8",
        "[0, 5, true] [0, 3, false] [nil, \"x\", true]",
        "both one none",
        "4 0",
        "nil",
      ])
  }

  func testCallsBetweenBytecodeClosuresAndBuiltins() {
    same("""
      fn square(x) { return x * x }
      fn viaClosure(xs) { return [square(x) for x in xs] }
      fn total(xs) { return sum(viaClosure(xs)) + len(xs) + abs(-1) }
      print(total([1, 2, 3]))
      fn three(a, b, c) { return a * 100 + b * 10 + c }
      fn callsThree(n) { return three(n, n + 1, square(n)) }
      print(callsThree(2))
      fn usesGlobal() { return limit * 2 }
      let limit = 21
      print(usesGlobal())
      fn str2(n) { return str(n) + str(n) }
      print(str2(12))
      """, ["18", "234", "42", "1212"])
  }

  func testCalleeIsLookedUpBeforeItsArguments() {
    same("""
      fn f(x) { return "old f" }
      fn g() {
        f = fn(x) => "new f"
        return 0
      }
      fn t() { return f(g()) }
      print(t(), f(0))
      """, ["old f new f"])
    let text = sameError("""
      fn t(n) { return nope(n + "a") }
      t(1)
      """)
    XCTAssertTrue(text.contains("undefined name 'nope'"), text)
  }

  func testErrorsCarryTheSameTraceAndPlace() {
    let text = sameError("""
      fn down(n) {
        if n == 0 { return 1 // n }
        return down(n - 1)
      }
      fn top() { return down(3) + 1 }
      top()
      """)
    XCTAssertTrue(text.contains("division by zero") || text.contains("divide"), text)
    XCTAssertTrue(text.contains("down"), text)
    sameError("""
      fn add(a, b) { return a + b }
      fn outer(n) { return add(n, [1]) }
      outer(1)
      """)
    sameError("""
      fn over(n) { return n * 4611686018427387904 }
      over(4)
      """)
    sameError("""
      fn notCallable() { let x = 3
        return limit(1) }
      let limit = 5
      notCallable()
      """)
    sameError("""
      fn arity(a, b) { return a }
      fn calls() { return arity(1) }
      calls()
      """)
  }

  func testRecursionLimitAndStepLimit() {
    // The count may differ: closures also stop at the native stack's
    // floor, bytecode calls use none of it.
    for bytecode in [true, false] {
      let text = LanguageTestSupport.renderedError("""
        fn deep(n) { return deep(n + 1) + 1 }
        deep(0)
        """, bytecode: bytecode)?.1 ?? ""
      XCTAssertTrue(text.contains("recursion depth exceeded ("), text)
      XCTAssertTrue(text.contains("in 'deep')"), text)
      XCTAssertTrue(text.contains("... the same call repeated"), text)
    }
    for bytecode in [true, false] {
      let out = LanguageTestSupport.run("""
        fn spin(n) {
          let i = 0
          while true { i += 1 }
          return i
        }
        spin(0)
        """, stepLimit: 100_000, bytecode: bytecode)
      XCTAssertEqual(out.error?.kind, .timeout, "bytecode: \(bytecode)")
    }
  }

  func testFramesAreReleased() {
    // Strings and lists made in bytecode frames are freed when the frames
    // go, on return and on error: the counts stay the same.
    same("""
      fn make(n) {
        let s = "x" + str(n)
        let t = s + s
        return len(t)
      }
      fn many(k) {
        let total = 0
        let i = 0
        while i < k { total += make(i); i += 1 }
        return total
      }
      print(many(1000))
      fn fails(n) {
        let s = "keep" + str(n)
        return s + n
      }
      let caught = 0
      for i in range(100) {
        try { fails(i) } catch { caught += 1 }
      }
      print(caught)
      """, ["7780", "100"])
  }
}
