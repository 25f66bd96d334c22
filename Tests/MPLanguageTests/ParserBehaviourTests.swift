import XCTest
@testable import MPLanguage

/// How the parser reads layout and precedence, checked on the syntax tree
/// (printed as S-expressions) and, where it matters, on what the program does.
final class ParserBehaviourTests: XCTestCase {
  // MARK: S-expression printing of syntax trees

  func sx(_ e: Expr) -> String {
    switch e {
    case .literal(let v, _): return v.repr
    case .interp(let pieces, _):
      let parts = pieces.map { p -> String in
        switch p {
        case .text(let s): return quote(s)
        case .expr(let x, let spec): return spec.map { "(fmt \(sx(x)) \(quote($0)))" } ?? sx(x)
        }
      }
      return "(interp \(parts.joined(separator: " ")))"
    case .name(let n): return n.name
    case .list(let items, _): return "(list" + items.map { " " + sx($0) }.joined() + ")"
    case .map(let entries, _): return "(map" + entries.map { " \(sx($0.0)):\(sx($0.1))" }.joined() + ")"
    case .unary(let op, let x, _): return "(\(op.rawValue) \(sx(x)))"
    case .binary(let op, let a, let b, _): return "(\(op.symbol) \(sx(a)) \(sx(b)))"
    case .call(let f, let args, _): return "(call \(sx(f))" + args.map { " " + sx($0) }.joined() + ")"
    case .callKeywords(let f, let args, let kws, _):
      return "(call \(sx(f))" + args.map { " " + sx($0) }.joined() + kws.map { " \($0.name)=\(sx($0.value))" }.joined() + ")"
    case .slice(let a, let lo, let hi, let st, _):
      return "(slice \(sx(a)) \([lo, hi, st].map { $0.map(sx) ?? "_" }.joined(separator: " ")))"
    case .comprehension(let c):
      return "(comp \(sx(c.element)) for \(c.pattern.decls.map(\.name).joined(separator: ",")) in \(sx(c.iterable))"
        + (c.condition.map { " if \(sx($0))" } ?? "") + ")"
    case .index(let a, let i, _): return "(index \(sx(a)) \(sx(i)))"
    case .member(let a, let name, _): return "(. \(sx(a)) \(name))"
    case .function(let fn): return sxFunction(fn)
    }
  }

  func sxFunction(_ fn: FnNode) -> String {
    let params = fn.params.map { p in p.defaultValue.map { "(\(p.decl.name) \(sx($0)))" } ?? p.decl.name }
    let kind = fn.isArrow ? "=>" : "fn"
    return "(\(kind) \(fn.name) (\(params.joined(separator: " "))) \(sxBlock(fn.body)))"
  }

  func sxBlock(_ b: [Stmt]) -> String { "{" + b.map { sx($0) }.joined(separator: " ") + "}" }

  func sx(_ s: Stmt) -> String {
    switch s {
    case .expr(let e): return sx(e)
    case .letDecl(let d, let e): return "(let \(d.name) \(sx(e)))"
    case .letUnpack(let ds, let vs, _):
      return "(let \(ds.map(\.name).joined(separator: ",")) \(vs.map(sx).joined(separator: " ")))"
    case .assign(let t, let op, let v, _): return "(\(op?.rawValue ?? "")= \(sx(t.expr)) \(sx(v)))"
    case .assignUnpack(let ts, let vs, _):
      return "(= \(ts.map { sx($0.expr) }.joined(separator: ",")) \(vs.map(sx).joined(separator: " ")))"
    case .fnDecl(_, let fn): return sxFunction(fn)
    case .ret(let e, _): return e.map { "(return \(sx($0)))" } ?? "(return)"
    case .ifElse(let arms, let els):
      let a = arms.map { "\(sx($0.0)) \(sxBlock($0.1))" }.joined(separator: " elif ")
      return "(if \(a)" + (els.map { " else \(sxBlock($0))" } ?? "") + ")"
    case .whileLoop(let c, let b, _): return "(while \(sx(c)) \(sxBlock(b)))"
    case .forLoop(let p, let it, let b, _):
      return "(for \(p.decls.map { $0.name }.joined(separator: ",")) \(sx(it)) \(sxBlock(b)))"
    case .breakLoop: return "(break)"
    case .continueLoop: return "(continue)"
    case .with(let e, let d, let b, _): return "(with \(sx(e))\(d.map { " as \($0.name)" } ?? "") \(sxBlock(b)))"
    case .tryCatch(let b, let c, let f, _):
      let catchPart = c.map { " catch\($0.decl.map { " " + $0.name } ?? "") \(sxBlock($0.body))" } ?? ""
      return "(try \(sxBlock(b))\(catchPart)\(f.map { " finally \(sxBlock($0))" } ?? ""))"
    case .throwValue(let e, _): return "(throw \(sx(e)))"
    case .importFile(let path, let d, _): return "(import \(quote(path)) as \(d.name))"
    case .time(let b, _): return "(time \(sxBlock(b)))"
    }
  }

  /// The program's statements as S-expressions, one per statement.
  func tree(_ source: String, file: StaticString = #filePath, line: UInt = #line) -> [String] {
    do {
      return try Parser.parse(source, file: "p.mp").map { sx($0) }
    } catch let e as MPError {
      XCTFail("did not parse: \(e.render())", file: file, line: line)
    } catch {
      XCTFail("non-MPError: \(error)", file: file, line: line)
    }
    return []
  }

  func syntaxError(_ source: String, file: StaticString = #filePath, line: UInt = #line) -> MPError? {
    do {
      _ = try Parser.parse(source, file: "p.mp")
      XCTFail("expected a syntax error for:\n\(source)", file: file, line: line)
    } catch let e as MPError {
      XCTAssertEqual(e.kind, .syntax, file: file, line: line)
      XCTAssertNotNil(e.loc, file: file, line: line)
      return e
    } catch {
      XCTFail("non-MPError: \(error)", file: file, line: line)
    }
    return nil
  }

  func printed(_ source: String, file: StaticString = #filePath, line: UInt = #line) -> [String] {
    let o = LanguageTestSupport.run(source)
    if let e = o.error { XCTFail("failed: \(e.render())", file: file, line: line) }
    return o.lines
  }

  // MARK: newlines

  func testNewlinesInsideParenthesesAreIgnored() {
    XCTAssertEqual(tree("let x = (1\n  +\n  2\n)"), ["(let x (+ 1 2))"])
  }

  func testNewlinesInsideAListLiteralAreIgnored() {
    XCTAssertEqual(tree("let xs = [\n  1,\n\n  2\n]"), ["(let xs (list 1 2))"])
  }

  func testNewlinesInsideAMapLiteralAreIgnored() {
    XCTAssertEqual(tree("let m = {\n  \"a\"\n  :\n  1,\n  \"b\": 2,\n}"), ["(let m (map \"a\":1 \"b\":2))"])
  }

  func testNewlinesInsideCallArgumentsAndParametersAreIgnored() {
    XCTAssertEqual(tree("fn f(\n  a,\n  b = 2\n) { }\nf(\n  1,\n)"),
                   ["(fn f (a (b 2)) {})", "(call f 1)"])
  }

  func testNewlinesInsideIndexBracketsAreIgnored() {
    XCTAssertEqual(tree("let v = xs[\n  0\n]"), ["(let v (index xs 0))"])
  }

  func testNewlinesInsideABlockInsideParenthesesSeparateStatements() {
    XCTAssertEqual(tree("run(fn() {\n  let a = 1\n  let b = 2\n  return a + b\n})"),
                   ["(call run (fn <anonymous> () {(let a 1) (let b 2) (return (+ a b))}))"])
  }

  func testNewlinesInsideABlockInsideAListSeparateStatements() {
    XCTAssertEqual(tree("let fs = [fn() {\n  f()\n  g()\n}, 2]"),
                   ["(let fs (list (fn <anonymous> () {(call f) (call g)}) 2))"])
  }

  func testATrailingBinaryOperatorContinuesTheLine() {
    XCTAssertEqual(tree("let x = 1 +\n  2 *\n  3"), ["(let x (+ 1 (* 2 3)))"])
    XCTAssertEqual(tree("let y = a ==\n  b"), ["(let y (== a b))"])
    XCTAssertEqual(tree("let z = 7 //\n 2 %\n 3"), ["(let z (% (// 7 2) 3))"])
  }

  func testATrailingAndOrNotOrInContinuesTheLine() {
    XCTAssertEqual(tree("let b = x and\n  y or\n  not\n  z"), ["(let b (or (and x y) (not z)))"])
    XCTAssertEqual(tree("let c = 1 in\n  xs"), ["(let c (in 1 xs))"])
  }

  func testATrailingAssignmentOrArrowContinuesTheLine() {
    XCTAssertEqual(tree("let x =\n  5"), ["(let x 5)"])
    XCTAssertEqual(tree("x +=\n  1"), ["(+= x 1)"])
    XCTAssertEqual(tree("let f = fn(a) =>\n  a"), ["(let f (=> <anonymous> (a) {(return a)}))"])
  }

  func testALeadingOperatorOnTheNextLineStartsANewStatement() {
    XCTAssertEqual(tree("let x = 1\n- 2"), ["(let x 1)", "-2"])
  }

  func testACallOrIndexOnTheNextLineIsASeparateStatement() {
    XCTAssertEqual(tree("f\n(1)"), ["f", "1"])
    XCTAssertEqual(tree("xs\n[0]"), ["xs", "(list 0)"])
  }

  func testSemicolonsAndBlankLinesSeparateStatements() {
    XCTAssertEqual(tree(";;\nlet a = 1; let b = 2;\n\n\n;b"), ["(let a 1)", "(let b 2)", "b"])
  }

  func testCommentsEndAtTheLineBreak() {
    XCTAssertEqual(tree("let a = 1 # comment ( [ {\nlet b = 2"), ["(let a 1)", "(let b 2)"])
  }

  func testCarriageReturnLineEndingsAreAccepted() {
    XCTAssertEqual(tree("let x = 1\r\nprint(x)\r\n"), ["(let x 1)", "(call print x)"])
  }

  func testEmptyProgramsHaveNoStatements() {
    for src in ["", "\n\n", "# only a comment", ";;;", "  \t \n # c \n"] {
      XCTAssertEqual(tree(src), [], "source: \(src.debugDescription)")
    }
  }

  // MARK: blocks and clauses on the next line

  func testElseOnTheNextLineBelongsToTheIf() {
    XCTAssertEqual(tree("if a {\n  x()\n}\nelse {\n  y()\n}"), ["(if a {(call x)} else {(call y)})"])
  }

  func testElseAfterBlankLinesStillBelongsToTheIf() {
    XCTAssertEqual(tree("if a { }\n\n\nelse { b() }"), ["(if a {} else {(call b)})"])
  }

  func testElseIfArmsChainIntoOneStatement() {
    XCTAssertEqual(tree("if a { 1 } else if b { 2 }\nelse if c { 3 } else { 4 }"),
                   ["(if a {1} elif b {2} elif c {3} else {4})"])
  }

  func testCatchOnTheNextLineBelongsToTheTry() {
    XCTAssertEqual(tree("try {\n  f()\n}\ncatch e {\n  g(e)\n}"), ["(try {(call f)} catch e {(call g e)})"])
    XCTAssertEqual(tree("try { } catch { }"), ["(try {} catch {})"])
  }

  func testABlockMustOpenOnTheLineOfItsHeader() {
    let e = syntaxError("while x\n{\n}")
    XCTAssertEqual(e?.message, "expected '{' after the 'while' condition, found end of line")
    XCTAssertEqual(e?.loc?.line, 1)
    XCTAssertEqual(e?.loc?.column, 8)
  }

  func testABraceAtTheStartOfAStatementIsAMapLiteral() {
    XCTAssertEqual(tree("{}\n{\"k\": 1}"), ["(map)", "(map \"k\":1)"])
  }

  // MARK: precedence and associativity

  func testPrecedenceFollowsTheGrammarLowestFirst() {
    XCTAssertEqual(tree("a or b and not c == d + e * -f"),
                   ["(or a (and b (not (== c (+ d (* e (- f)))))))"])
  }

  func testArithmeticIsLeftAssociative() {
    XCTAssertEqual(tree("1 - 2 - 3"), ["(- (- 1 2) 3)"])
    XCTAssertEqual(tree("8 / 4 / 2"), ["(/ (/ 8 4) 2)"])
    XCTAssertEqual(tree("7 // 2 * 3 % 4"), ["(% (* (// 7 2) 3) 4)"])
  }

  func testNotBindsLooserThanComparisonAndMembership() {
    XCTAssertEqual(tree("not x in xs"), ["(not (in x xs))"])
    XCTAssertEqual(tree("x not in xs"), ["(not in x xs)"])
    XCTAssertEqual(tree("not not x"), ["(not (not x))"])
  }

  func testUnaryMinusBindsTighterThanMultiplicationAndFoldsIntoLiterals() {
    XCTAssertEqual(tree("-x * y"), ["(* (- x) y)"])
    XCTAssertEqual(tree("-5"), ["-5"])
    XCTAssertEqual(tree("- -2.5"), ["2.5"])
    XCTAssertEqual(tree("-(1)"), ["-1"])
  }

  func testPostfixOperatorsChainLeftToRight() {
    XCTAssertEqual(tree("a.b(c)[d].e()"), ["(call (. (index (call (. a b) c) d) e))"])
    XCTAssertEqual(tree("f()()"), ["(call (call f))"])
  }

  func testParenthesesOverridePrecedence() {
    XCTAssertEqual(tree("(1 + 2) * 3"), ["(* (+ 1 2) 3)"])
  }

  func testComparisonsDoNotChain() {
    let e = syntaxError("a < b <= c")
    XCTAssertEqual(e?.message, "comparisons do not chain: write 'a < b and b <= c' instead of 'a < b <= c'")
    XCTAssertEqual(e?.loc?.column, 7)
    XCTAssertNotNil(syntaxError("a in b in c"))
    XCTAssertEqual(tree("(a < b) < c"), ["(< (< a b) c)"])
  }

  // MARK: statements

  func testAssignmentTargetsAreNamesIndexesAndMembers() {
    XCTAssertEqual(tree("x = 1\nxs[0] += 2\nm[\"k\"][1] //= 3\nobj.field = 4"),
                   ["(= x 1)", "(+= (index xs 0) 2)", "(//= (index (index m \"k\") 1) 3)", "(= (. obj field) 4)"])
  }

  func testFunctionForms() {
    XCTAssertEqual(tree("fn f(a, b = a * 2) { return }"), ["(fn f (a (b (* a 2))) {(return)})"])
    XCTAssertEqual(tree("fn g(x) => x + 1"), ["(=> g (x) {(return (+ x 1))})"])
    XCTAssertEqual(tree("let h = fn() { }"), ["(let h (fn <anonymous> () {}))"])
  }

  func testForLoopTargets() {
    XCTAssertEqual(tree("for x in xs { }"), ["(for x xs {})"])
    XCTAssertEqual(tree("for i, v in enumerate(xs) { break }"), ["(for i,v (call enumerate xs) {(break)})"])
  }

  func testWithThrowAndImport() {
    XCTAssertEqual(tree("with lock as l { continue }"), ["(with lock as l {(continue)})"])
    XCTAssertEqual(tree("throw {\"k\": 1}"), ["(throw (map \"k\":1))"])
    XCTAssertEqual(tree("import \"lib/my_mod.mp\""), ["(import \"lib/my_mod.mp\" as my_mod)"])
    XCTAssertEqual(tree("import \"../x.mp\" as y"), ["(import \"../x.mp\" as y)"])
  }

  func testTimeIsAKeywordOnlyBeforeABlock() {
    XCTAssertEqual(tree("time {\n  f()\n}"), ["(time {(call f)})"])
    XCTAssertEqual(tree("let time = 1\ntime(2)\ntime + 1"), ["(let time 1)", "(call time 2)", "(+ time 1)"])
  }

  func testNoKeywordCanBeAVariableOrParameterName() {
    XCTAssertEqual(Keyword.allCases.count, 22)
    for k in Keyword.allCases {
      let e = syntaxError("let \(k.rawValue) = 1")
      XCTAssertEqual(e?.message, "expected a name after 'let', found keyword '\(k.rawValue)' (keywords cannot be used as names)")
      XCTAssertEqual(e?.loc?.column, 5)
      let p = syntaxError("fn f(a, \(k.rawValue)) { }")
      XCTAssertEqual(p?.message, "expected a parameter name, found keyword '\(k.rawValue)' (keywords cannot be used as names)")
      XCTAssertNotNil(syntaxError("for \(k.rawValue) in xs { }"), k.rawValue)
    }
  }

  func testInterpolationHolesAreExpressionsWithOptionalSpecs() {
    XCTAssertEqual(tree("\"a{1 + 2}b{x:>5}\""), ["(interp \"a\" (+ 1 2) \"b\" (fmt x \">5\"))"])
    XCTAssertEqual(tree("\"{m[\"k\"]}\""), ["(interp (index m \"k\"))"])
    XCTAssertEqual(tree("\"plain \\{x\\}\""), ["\"plain \\{x\\}\""])
  }

  func testAHoleIsOneExpression() {
    let e = syntaxError("let s = \"{1 2}\"")
    XCTAssertEqual(e?.message, "expected '}' after the interpolated expression, found number '2'")
    XCTAssertEqual(e?.loc?.column, 13)
  }

  func testNamesMayBeUnicodeLetters() {
    XCTAssertEqual(tree("let café = 1\nlet 名前 = café"), ["(let café 1)", "(let 名前 café)"])
  }

  func testColumnsCountUnicodeScalars() {
    let e = syntaxError("let s = \"é\" @")
    XCTAssertEqual(e?.loc?.column, 13)
  }

  func testErrorsAtTheEndOfInputAreMarkedIncomplete() {
    for src in ["if x {", "let xs = [1,", "f(", "let s = \"abc", "let x = 1 +", "try { }\ncatch e {"] {
      XCTAssertEqual(syntaxError(src)?.isIncomplete, true, "source: \(src.debugDescription)")
    }
    for src in ["let = 1", "}", "1 < 2 < 3", "let x = @"] {
      XCTAssertEqual(syntaxError(src)?.isIncomplete, false, "source: \(src.debugDescription)")
    }
  }

  // MARK: layout decides meaning (checked by running)

  func testMultiLineProgramsRunAsLaidOut() {
    let src = """
      let total = 1 +
        2
      let xs = [
        total,
        total * 2,
      ]
      let r = sorted(xs, fn(x) {
        let neg = -x
        return neg
      })
      if r[0] > 5 {
        print("big")
      }
      else {
        print("small", r)
      }
      """
    XCTAssertEqual(printed(src), ["big"])
  }
}
