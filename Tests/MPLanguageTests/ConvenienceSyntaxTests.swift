import XCTest
@testable import MPLanguage

/// The syntax issue 14 added (keyword arguments, slices, destructuring,
/// try/finally, bitwise operators, comprehensions), read as trees.
extension ParserBehaviourTests {
  func testBitwiseOperatorsBindAsInPython() {
    XCTAssertEqual(tree("1 | 2 == 3"), ["(== (| 1 2) 3)"])
    XCTAssertEqual(tree("a | b ^ c & d << 1 + 2"), ["(| a (^ b (& c (<< d (+ 1 2)))))"])
    XCTAssertEqual(tree("~-x * 2"), ["(* (~ (- x)) 2)"])
    XCTAssertEqual(tree("a >> 1 << 2"), ["(<< (>> a 1) 2)"])
  }

  func testSlicesReadEveryBoundAndStep() {
    XCTAssertEqual(tree("xs[1:2]"), ["(slice xs 1 2 _)"])
    XCTAssertEqual(tree("xs[:]"), ["(slice xs _ _ _)"])
    XCTAssertEqual(tree("xs[::-1]"), ["(slice xs _ _ -1)"])
    XCTAssertEqual(tree("xs[a:]"), ["(slice xs a _ _)"])
    XCTAssertEqual(tree("xs[:b:2]"), ["(slice xs _ b 2)"])
    XCTAssertEqual(tree("xs[i]"), ["(index xs i)"])
  }

  func testKeywordArgumentsFollowPositionalOnes() {
    XCTAssertEqual(tree("f(1, b=2, c=x == 1)"), ["(call f 1 b=2 c=(== x 1))"])
    XCTAssertEqual(tree("o.m(timeout=1)"), ["(call (. o m) timeout=1)"])
    XCTAssertEqual(tree("f(a == 1)"), ["(call f (== a 1))"])
    XCTAssertNotNil(syntaxError("f(a=1, 2)"))
    XCTAssertNotNil(syntaxError("f(a=1, a=2)"))
  }

  func testDestructuringStatements() {
    XCTAssertEqual(tree("let a, b = pair"), ["(let a,b pair)"])
    XCTAssertEqual(tree("let a, b = 1, 2"), ["(let a,b 1 2)"])
    XCTAssertEqual(tree("a, b = b, a"), ["(= a,b b a)"])
    XCTAssertEqual(tree("xs[0], o.f = 1, 2"), ["(= (index xs 0),(. o f) 1 2)"])
    XCTAssertNotNil(syntaxError("let a = 1, 2"))
    XCTAssertNotNil(syntaxError("a = 1, 2"))
    XCTAssertNotNil(syntaxError("a, b += 1"))
    XCTAssertNotNil(syntaxError("a, f() = 1, 2"))
  }

  func testParenthesisedTargetsAreRefused() {
    XCTAssertNotNil(syntaxError("(x) = 5"))
    XCTAssertNotNil(syntaxError("(x.y) = 5"))
    XCTAssertNotNil(syntaxError("(xs[0]) += 5"))
    XCTAssertEqual(tree("(xs)[0] = 5"), ["(= (index xs 0) 5)"])
    XCTAssertEqual(tree("(o).f = 5"), ["(= (. o f) 5)"])
  }

  func testTryTakesCatchFinallyOrBoth() {
    XCTAssertEqual(tree("try { a } finally { b }"), ["(try {a} finally {b})"])
    XCTAssertEqual(tree("try { a } catch e { b } finally { c }"), ["(try {a} catch e {b} finally {c})"])
    XCTAssertEqual(tree("try { a }\ncatch { b }\nfinally { c }"), ["(try {a} catch {b} finally {c})"])
    // `finally` is a name everywhere else.
    XCTAssertEqual(tree("let finally = 1\nfinally"), ["(let finally 1)", "finally"])
    XCTAssertNotNil(syntaxError("try { a }"))
  }

  func testComprehensions() {
    XCTAssertEqual(tree("[f(x) for x in xs if p(x)]"), ["(comp (call f x) for x in xs if (call p x))"])
    XCTAssertEqual(tree("[k for k, v in m.items()]"), ["(comp k for k,v in (call (. m items)))"])
    XCTAssertEqual(tree("[x in ys for x in xs]"), ["(comp (in x ys) for x in xs)"])
    XCTAssertNotNil(syntaxError("[x for x in xs, 1]"))
  }
}
