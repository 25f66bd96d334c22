import XCTest
@testable import MPLanguage

/// A corpus of malformed and failing programs with the exact rendered
/// diagnostic each must produce: `path:line:col: error: message`, the source
/// line, a caret under the column, and for runtime errors the mp call stack.
/// Every message here was read and judged clear and correctly placed; a
/// message found wrong is fixed, then added here, never enshrined as it is.
final class ErrorMessageCorpusTests: XCTestCase {
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

  func testSyntaxError_UnterminatedString() {
    expectError("let s = \"abc", syntax: true, #"""
      t.mp:1:9: error: unterminated string (it starts here)
          let s = "abc
                  ^
      """#)
  }

  func testSyntaxError_UnterminatedStringSpanningLines() {
    expectError("print('abc\nprint(1)", syntax: true, #"""
      t.mp:1:7: error: unterminated string (it starts here)
          print('abc
                ^
      """#)
  }

  func testSyntaxError_UnknownEscape() {
    expectError("print(\"a\\qb\")", syntax: true, #"""
      t.mp:1:9: error: unknown escape '\q' in string (known: \n \t \r \\ \" \' \{ \})
          print("a\qb")
                  ^
      """#)
  }

  func testSyntaxError_SingleClosingBraceInString() {
    expectError("let s = \"a}b\"", syntax: true, #"""
      t.mp:1:11: error: single '}' in string (write '\}' for a literal brace)
          let s = "a}b"
                    ^
      """#)
  }

  func testSyntaxError_EmptyInterpolation() {
    expectError("let s = \"x{}\"", syntax: true, #"""
      t.mp:1:12: error: empty expression in string interpolation
          let s = "x{}"
                     ^
      """#)
  }

  func testSyntaxError_InvalidFormatSpec() {
    expectError("let s = \"{3.5:zz}\"", syntax: true, #"""
      t.mp:1:11: error: invalid format spec 'zz' (expected [[fill]align][sign][0][width][,][.precision][type])
          let s = "{3.5:zz}"
                    ^
      """#)
  }

  func testSyntaxError_MissingHexDigits() {
    expectError("let x = 0x", syntax: true, #"""
      t.mp:1:9: error: expected hex digits after '0x'
          let x = 0x
                  ^
      """#)
  }

  func testSyntaxError_IntegerLiteralTooBig() {
    expectError("let x = 99999999999999999999", syntax: true, #"""
      t.mp:1:9: error: integer literal '99999999999999999999' does not fit in 64 bits
          let x = 99999999999999999999
                  ^
      """#)
  }

  func testSyntaxError_LetterAfterNumber() {
    expectError("let x = 12abc", syntax: true, #"""
      t.mp:1:11: error: unexpected 'a' after number '12'
          let x = 12abc
                    ^
      """#)
  }

  func testSyntaxError_UnexpectedCharacter() {
    expectError("let x = 5 @ 3", syntax: true, #"""
      t.mp:1:11: error: unexpected character '@'
          let x = 5 @ 3
                    ^
      """#)
  }

  func testSyntaxError_BangForNegation() {
    expectError("if !done { }", syntax: true, #"""
      t.mp:1:4: error: unexpected character '!' (use 'not' for negation, '!=' for inequality)
          if !done { }
             ^
      """#)
  }

  func testSyntaxError_DoubleAmpersand() {
    expectError("if a && b { }", syntax: true, #"""
      t.mp:1:6: error: unexpected '&&' (use 'and'; '&' alone is bitwise)
          if a && b { }
               ^
      """#)
  }

  func testSyntaxError_UnclosedBlockAtEndOfInput() {
    expectError("fn f() {\n  return 1", syntax: true, #"""
      t.mp:2:11: error: expected '}' to close the block opened at line 1, found end of input
            return 1
                    ^
      """#)
  }

  func testSyntaxError_StrayClosingBrace() {
    expectError("let x = 1\n}", syntax: true, #"""
      t.mp:2:1: error: unexpected '}' (no block is open)
          }
          ^
      """#)
  }

  func testSyntaxError_UnexpectedKeywordInArguments() {
    expectError("print(1, 2 else)", syntax: true, #"""
      t.mp:1:12: error: expected ')' or ',' after an argument, found 'else'
          print(1, 2 else)
                     ^
      """#)
  }

  func testSyntaxError_UnclosedParenthesis() {
    expectError("let x = (1 + 2", syntax: true, #"""
      t.mp:1:15: error: expected ')' to close '(' at line 1, found end of input
          let x = (1 + 2
                        ^
      """#)
  }

  func testSyntaxError_UnclosedList() {
    expectError("let xs = [1, 2", syntax: true, #"""
      t.mp:1:15: error: expected ']' or ',' in the list opened at line 1, found end of input
          let xs = [1, 2
                        ^
      """#)
  }

  func testSyntaxError_MissingCommaInList() {
    expectError("let xs = [1 2]", syntax: true, #"""
      t.mp:1:13: error: expected ']' or ',' in the list opened at line 1, found number '2'
          let xs = [1 2]
                      ^
      """#)
  }

  func testSyntaxError_MissingColonInMap() {
    expectError("let m = {\"a\" 1}", syntax: true, #"""
      t.mp:1:14: error: expected ':' between a map key and its value, found number '1'
          let m = {"a" 1}
                       ^
      """#)
  }

  func testSyntaxError_MissingCommaInMap() {
    expectError("let m = {\"a\": 1 \"b\": 2}", syntax: true, #"""
      t.mp:1:17: error: expected '}' or ',' in the map opened at line 1, found string
          let m = {"a": 1 "b": 2}
                          ^
      """#)
  }

  func testSyntaxError_AssignToCall() {
    expectError("f() = 1", syntax: true, #"""
      t.mp:1:5: error: cannot assign to a function call; expected a name, index or member before '='
          f() = 1
              ^
      """#)
  }

  func testSyntaxError_AssignToLiteral() {
    expectError("1 = x", syntax: true, #"""
      t.mp:1:3: error: cannot assign to a literal; expected a name, index or member before '='
          1 = x
            ^
      """#)
  }

  func testSyntaxError_AssignToExpression() {
    expectError("a + b = 3", syntax: true, #"""
      t.mp:1:7: error: cannot assign to this expression; expected a name, index or member before '='
          a + b = 3
                ^
      """#)
  }

  func testSyntaxError_LetWithoutValue() {
    expectError("let x", syntax: true, #"""
      t.mp:1:6: error: expected '=' after 'let x' (every variable starts with a value), found end of input
          let x
               ^
      """#)
  }

  func testSyntaxError_KeywordAsVariableName() {
    expectError("let while = 1", syntax: true, #"""
      t.mp:1:5: error: expected a name after 'let', found keyword 'while' (keywords cannot be used as names)
          let while = 1
              ^
      """#)
  }

  func testSyntaxError_KeywordAsParameterName() {
    expectError("fn f(if) { }", syntax: true, #"""
      t.mp:1:6: error: expected a parameter name, found keyword 'if' (keywords cannot be used as names)
          fn f(if) { }
               ^
      """#)
  }

  func testSyntaxError_ChainedComparison() {
    expectError("if 1 < x < 3 { }", syntax: true, #"""
      t.mp:1:10: error: comparisons do not chain: write 'a < b and b < c' instead of 'a < b < c'
          if 1 < x < 3 { }
                   ^
      """#)
  }

  func testSyntaxError_ChainedEquality() {
    expectError("let same = a == b == c", syntax: true, #"""
      t.mp:1:19: error: comparisons do not chain: write 'a == b and b == c' instead of 'a == b == c'
          let same = a == b == c
                            ^
      """#)
  }

  func testSyntaxError_BreakOutsideLoop() {
    expectError("let x = 1\nbreak", syntax: true, #"""
      t.mp:2:1: error: 'break' outside a loop
          break
          ^
      """#)
  }

  func testSyntaxError_ContinueInFunctionInsideLoop() {
    expectError("for i in [1] {\n  fn f() { continue }\n}", syntax: true, #"""
      t.mp:2:12: error: 'continue' outside a loop
            fn f() { continue }
                     ^
      """#)
  }

  func testSyntaxError_ReturnOutsideFunction() {
    expectError("return 5", syntax: true, #"""
      t.mp:1:1: error: 'return' outside a function
          return 5
          ^
      """#)
  }

  func testSyntaxError_MissingInInForLoop() {
    expectError("for x of xs { }", syntax: true, #"""
      t.mp:1:7: error: expected 'in' after the loop variable, found name 'of'
          for x of xs { }
                ^
      """#)
  }

  func testSyntaxError_BlockOnNextLine() {
    expectError("if x > 1\n{\n}", syntax: true, #"""
      t.mp:1:9: error: expected '{' after the 'if' condition, found end of line
          if x > 1
                  ^
      """#)
  }

  func testSyntaxError_ElseWithoutIf() {
    expectError("else { }", syntax: true, #"""
      t.mp:1:1: error: unexpected 'else' at the start of a statement
          else { }
          ^
      """#)
  }

  func testSyntaxError_TryWithoutCatch() {
    expectError("try { }\nprint(1)", syntax: true, #"""
      t.mp:1:8: error: expected 'catch' or 'finally' after the 'try' block, found end of line
          try { }
                 ^
      """#)
  }

  func testSyntaxError_ThrowWithoutValue() {
    expectError("throw", syntax: true, #"""
      t.mp:1:6: error: expected a value after 'throw', found end of input
          throw
               ^
      """#)
  }

  func testSyntaxError_ImportWithoutQuotes() {
    expectError("import math", syntax: true, #"""
      t.mp:1:8: error: expected a file path in quotes after 'import', found name 'math'
          import math
                 ^
      """#)
  }

  func testSyntaxError_ImportWithInterpolation() {
    expectError("import \"{x}.mp\"", syntax: true, #"""
      t.mp:1:8: error: an import path cannot contain '{...}' (it is read before the program runs)
          import "{x}.mp"
                 ^
      """#)
  }

  func testSyntaxError_ImportNameNotAnIdentifier() {
    expectError("import \"my-lib.mp\"", syntax: true, #"""
      t.mp:1:8: error: cannot name a module after 'my-lib.mp'; add 'as NAME'
          import "my-lib.mp"
                 ^
      """#)
  }

  func testSyntaxError_DuplicateParameter() {
    expectError("fn f(a, b, a) { }", syntax: true, #"""
      t.mp:1:12: error: duplicate parameter 'a'
          fn f(a, b, a) { }
                     ^
      """#)
  }

  func testSyntaxError_RequiredAfterDefault() {
    expectError("fn f(a = 1, b) { }", syntax: true, #"""
      t.mp:1:13: error: parameter 'b' needs a default value because an earlier one has one
          fn f(a = 1, b) { }
                      ^
      """#)
  }

  func testSyntaxError_UnaryPlus() {
    expectError("let x = +1", syntax: true, #"""
      t.mp:1:9: error: unexpected '+' (mp has no unary plus)
          let x = +1
                  ^
      """#)
  }

  func testSyntaxError_TwoStatementsOnOneLine() {
    expectError("let x = 1 let y = 2", syntax: true, #"""
      t.mp:1:11: error: expected end of statement (a newline or ';'), found 'let'
          let x = 1 let y = 2
                    ^
      """#)
  }

  func testSyntaxError_MemberNameMissing() {
    expectError("let x = [1]\nx.1", syntax: true, #"""
      t.mp:2:3: error: expected a member name after '.', found number '1'
          x.1
            ^
      """#)
  }

  func testSyntaxError_OperatorAtEndOfInput() {
    expectError("let x = 1 +", syntax: true, #"""
      t.mp:1:12: error: expected an expression, found end of input
          let x = 1 +
                     ^
      """#)
  }

  func testSyntaxError_EmptyParentheses() {
    expectError("let x = ()", syntax: true, #"""
      t.mp:1:10: error: expected an expression, found ')'
          let x = ()
                   ^
      """#)
  }

  func testSyntaxError_NestedTooDeeply() {
    expectError("let x = (((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((1)))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))", syntax: true, #"""
      t.mp:1:209: error: program nested too deeply (more than 200 levels)
          let x = (((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((1)))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))
                                                                                                                                                                                                                          ^
      """#)
  }

  func testRuntimeError_UndefinedNameWithSuggestion() {
    expectError("let counter = 0\nprint(countr)", syntax: false, #"""
      t.mp:2:7: error: undefined name 'countr'; did you mean 'counter'?
          print(countr)
                ^
      """#)
  }

  func testRuntimeError_UndefinedFunctionWithSuggestion() {
    expectError("fn compute() { return 1 }\ncompte()", syntax: false, #"""
      t.mp:2:1: error: undefined name 'compte'; did you mean 'compute'?
          compte()
          ^
      """#)
  }

  func testRuntimeError_BuiltinSuggestion() {
    expectError("pritn(\"x\")", syntax: false, #"""
      t.mp:1:1: error: undefined name 'pritn'; did you mean 'print'?
          pritn("x")
          ^
      """#)
  }

  func testRuntimeError_UndefinedNoSuggestion() {
    expectError("print(zzz)", syntax: false, #"""
      t.mp:1:7: error: undefined name 'zzz'
          print(zzz)
                ^
      """#)
  }

  func testRuntimeError_UndeclaredAssignment() {
    expectError("total = 1", syntax: false, #"""
      t.mp:1:1: error: cannot assign to 'total': it was never declared (use 'let total = ...' first)
          total = 1
          ^
      """#)
  }

  func testRuntimeError_UndeclaredCompoundAssignment() {
    expectError("total += 1", syntax: false, #"""
      t.mp:1:1: error: undefined name 'total'
          total += 1
          ^
      """#)
  }

  func testRuntimeError_TooFewArguments() {
    expectError("fn add(a, b) { return a + b }\nadd(1)", syntax: false, #"""
      t.mp:2:1: error: add() takes 2 arguments, got 1
          add(1)
          ^
      """#)
  }

  func testRuntimeError_TooManyArgumentsWithDefaults() {
    expectError("fn f(a, b = 1) { }\nf(1, 2, 3)", syntax: false, #"""
      t.mp:2:1: error: f() takes at most 2 arguments, got 3
          f(1, 2, 3)
          ^
      """#)
  }

  func testRuntimeError_BuiltinArity() {
    expectError("len([1], [2])", syntax: false, #"""
      t.mp:1:1: error: len() takes 1 argument, got 2
          len([1], [2])
          ^
      """#)
  }

  func testRuntimeError_MethodArity() {
    expectError("let xs = []\nxs.push(1, 2)", syntax: false, #"""
      t.mp:2:4: error: push() takes 1 argument, got 2
          xs.push(1, 2)
             ^
      """#)
  }

  func testRuntimeError_CallInt() {
    expectError("let n = 3\nn(1)", syntax: false, #"""
      t.mp:2:1: error: cannot call 'n': it is a global int, not a function
          n(1)
          ^
      """#)
  }

  func testRuntimeError_IndexOutOfRange() {
    expectError("let xs = [1, 2, 3]\nprint(xs[3])", syntax: false, #"""
      t.mp:2:9: error: list index 3 out of range (length 3)
          print(xs[3])
                  ^
      """#)
  }

  func testRuntimeError_NegativeIndexOutOfRange() {
    expectError("let xs = [1]\nprint(xs[-2])", syntax: false, #"""
      t.mp:2:9: error: list index -2 out of range (length 1)
          print(xs[-2])
                  ^
      """#)
  }

  func testRuntimeError_StringIndexOutOfRange() {
    expectError("let s = \"abc\"\nprint(s[10])", syntax: false, #"""
      t.mp:2:8: error: string index 10 out of range (length 3)
          print(s[10])
                 ^
      """#)
  }

  func testRuntimeError_ListIndexNotInt() {
    expectError("let xs = [1]\nprint(xs[\"0\"])", syntax: false, #"""
      t.mp:2:9: error: list index must be an int, found string
          print(xs["0"])
                  ^
      """#)
  }

  func testRuntimeError_KeyNotFound() {
    expectError("let m = {\"a\": 1}\nprint(m[\"b\"])", syntax: false, #"""
      t.mp:2:8: error: key "b" not found in map
          print(m["b"])
                 ^
      """#)
  }

  func testRuntimeError_DivisionByZero() {
    expectError("print(10 / 0)", syntax: false, #"""
      t.mp:1:10: error: division by zero
          print(10 / 0)
                   ^
      """#)
  }

  func testRuntimeError_IntDivisionByZero() {
    expectError("let z = 0\nprint(7 // z)", syntax: false, #"""
      t.mp:2:9: error: integer division by zero
          print(7 // z)
                  ^
      """#)
  }

  func testRuntimeError_ModuloByZero() {
    expectError("let z = 0\nprint(7 % z)", syntax: false, #"""
      t.mp:2:9: error: integer modulo by zero
          print(7 % z)
                  ^
      """#)
  }

  func testRuntimeError_OverflowAdd() {
    expectError("let big = 9223372036854775807\nlet x = big + 1", syntax: false, #"""
      t.mp:2:13: error: integer overflow in '+' (ints are 64-bit; use floats for bigger numbers)
          let x = big + 1
                      ^
      """#)
  }

  func testRuntimeError_OverflowMul() {
    expectError("let x = 4611686018427387904 * 2", syntax: false, #"""
      t.mp:1:29: error: integer overflow in '*' (ints are 64-bit; use floats for bigger numbers)
          let x = 4611686018427387904 * 2
                                      ^
      """#)
  }

  func testRuntimeError_OverflowNegate() {
    expectError("let m = -9223372036854775807 - 1\nlet x = -m", syntax: false, #"""
      t.mp:2:9: error: integer overflow in '-' (ints are 64-bit; use floats for bigger numbers)
          let x = -m
                  ^
      """#)
  }

  func testRuntimeError_AddStringAndInt() {
    expectError("let s = \"n=\" + 5", syntax: false, #"""
      t.mp:1:14: error: unsupported operand types for '+': string and int (use str(x) to join an int to a string, or "{x}")
          let s = "n=" + 5
                       ^
      """#)
  }

  func testRuntimeError_AddListAndInt() {
    expectError("let xs = [1] + 1", syntax: false, #"""
      t.mp:1:14: error: unsupported operand types for '+': list and int
          let xs = [1] + 1
                       ^
      """#)
  }

  func testRuntimeError_CompareIntAndString() {
    expectError("let b = 1 < \"a\"", syntax: false, #"""
      t.mp:1:11: error: cannot compare int and string with '<'
          let b = 1 < "a"
                    ^
      """#)
  }

  func testRuntimeError_ListMemberSuggestion() {
    expectError("let xs = [1]\nxs.pusj(2)", syntax: false, #"""
      t.mp:2:4: error: list has no member 'pusj'; did you mean 'push'?
          xs.pusj(2)
             ^
      """#)
  }

  func testRuntimeError_StringMemberUnknown() {
    expectError("let n = \"abc\".size()", syntax: false, #"""
      t.mp:1:15: error: string has no member 'size'
          let n = "abc".size()
                        ^
      """#)
  }

  func testRuntimeError_AssertWithMessage() {
    expectError("let x = 1\nassert(x > 1, \"x must be big\")", syntax: false, #"""
      t.mp:2:1: error: assertion failed: x must be big
          assert(x > 1, "x must be big")
          ^
      """#)
  }

  func testRuntimeError_AssertWithoutMessage() {
    expectError("assert(false)", syntax: false, #"""
      t.mp:1:1: error: assertion failed
          assert(false)
          ^
      """#)
  }

  func testRuntimeError_UncaughtThrowString() {
    expectError("throw \"gave up\"", syntax: false, #"""
      t.mp:1:1: error: gave up
          throw "gave up"
          ^
      """#)
  }

  func testRuntimeError_UncaughtThrowMap() {
    expectError("throw {\"code\": 3}", syntax: false, #"""
      t.mp:1:1: error: {"code": 3}
          throw {"code": 3}
          ^
      """#)
  }

  func testRuntimeError_TraceThroughFunctions() {
    expectError("fn a(x) {\n  return b(x)\n}\nfn b(x) {\n  return x // 0\n}\nprint(a(1))", syntax: false, #"""
      t.mp:5:12: error: integer division by zero
            return x // 0
                     ^
        at b (t.mp:5:12)
        at a (t.mp:2:10)
        at <top level> (t.mp:7:7)
      """#)
  }

  func testRuntimeError_ImportMissingFile() {
    expectError("import \"nope.mp\"", syntax: false, #"""
      t.mp:1:1: error: cannot import 'nope.mp': no such file (looked for nope.mp)
          import "nope.mp"
          ^
      """#)
  }

  func testRuntimeError_UnpackMismatch() {
    expectError("for a, b in [[1, 2, 3]] { }", syntax: false, #"""
      t.mp:1:1: error: cannot unpack a list of 3 into 2 names
          for a, b in [[1, 2, 3]] { }
          ^
      """#)
  }

  func testRuntimeError_IterateInt() {
    expectError("for x in 42 { }", syntax: false, #"""
      t.mp:1:1: error: cannot iterate over a value of type int (expected a list, string, map, range or queue)
          for x in 42 { }
          ^
      """#)
  }

  func testRuntimeError_AssignIntoString() {
    expectError("let s = \"abc\"\ns[0] = \"x\"", syntax: false, #"""
      t.mp:2:2: error: strings cannot be changed in place; build a new one
          s[0] = "x"
           ^
      """#)
  }

  func testRuntimeError_MapKeyType() {
    expectError("let m = {}\nm[[1]] = 1", syntax: false, #"""
      t.mp:2:2: error: map keys must be strings, ints or bools, found list
          m[[1]] = 1
           ^
      """#)
  }

  func testRuntimeError_SetMemberOnMap() {
    expectError("let m = {}\nm.x = 1", syntax: false, #"""
      t.mp:2:3: error: cannot set member 'x' of a map; use m["x"] = ...
          m.x = 1
            ^
      """#)
  }

  func testRuntimeError_IntOfBadString() {
    expectError("let n = int(\"12a\")", syntax: false, #"""
      t.mp:1:9: error: cannot convert "12a" to an int
          let n = int("12a")
                  ^
      """#)
  }

  func testRuntimeError_RangeStepZero() {
    expectError("let r = range(1, 5, 0)", syntax: false, #"""
      t.mp:1:9: error: range() step must not be zero
          let r = range(1, 5, 0)
                  ^
      """#)
  }

  func testRuntimeError_PopEmptyList() {
    expectError("let xs = []\nxs.pop()", syntax: false, #"""
      t.mp:2:4: error: pop from an empty list
          xs.pop()
             ^
      """#)
  }

  func testRuntimeError_ErrorInArrowFunction() {
    expectError("let inv = fn(x) => 1 / x\nprint(inv(0))", syntax: false, #"""
      t.mp:1:22: error: division by zero
          let inv = fn(x) => 1 / x
                               ^
        at <anonymous> (t.mp:1:22)
        at <top level> (t.mp:2:7)
      """#)
  }

  func testRuntimeError_CaretUnderTabIndentedCode() {
    expectError("if true {\n\tlet y = nil + 1\n}", syntax: false, #"""
      t.mp:2:14: error: unsupported operand types for '+': nil and int
              let y = nil + 1
                          ^
      """#)
  }

  func testRuntimeError_CaretAfterNonAscii() {
    expectError("let s = \"héllo\" - 1", syntax: false, #"""
      t.mp:1:17: error: unsupported operand types for '-': string and int
          let s = "héllo" - 1
                          ^
      """#)
  }

  func testRuntimeError_NegateString() {
    expectError("let x = -\"a\"", syntax: false, #"""
      t.mp:1:9: error: cannot negate a string (unary '-' needs a number)
          let x = -"a"
                  ^
      """#)
  }

  func testRuntimeError_InWithIntRight() {
    expectError("let b = 1 in 5", syntax: false, #"""
      t.mp:1:11: error: 'in' needs a list, string, map or range on the right, found int
          let b = 1 in 5
                    ^
      """#)
  }

  func testRuntimeError_NotInWithIntRight() {
    expectError("let b = 1 not in 5", syntax: false, #"""
      t.mp:1:11: error: 'in' needs a list, string, map or range on the right, found int
          let b = 1 not in 5
                    ^
      """#)
  }

  func testRuntimeError_MapNoMember() {
    expectError("let m = {\"k\": 1}\nprint(m.k)", syntax: false, #"""
      t.mp:2:9: error: map has no member 'k' (use m["k"] for map entries)
          print(m.k)
                  ^
      """#)
  }

  func testRuntimeError_MinOfEmpty() {
    expectError("print(min([]))", syntax: false, #"""
      t.mp:1:7: error: min() of an empty sequence
          print(min([]))
                ^
      """#)
  }

  func testRuntimeError_SortedMixedTypes() {
    expectError("print(sorted([1, \"a\"]))", syntax: false, #"""
      t.mp:1:7: error: cannot compare string and int with '<'
          print(sorted([1, "a"]))
                ^
      """#)
  }

  func testRuntimeError_SumOfStrings() {
    expectError("print(sum([\"a\", \"b\"]))", syntax: false, #"""
      t.mp:1:7: error: unsupported operand types for '+': int and string (use str(x) to join an int to a string, or "{x}")
          print(sum(["a", "b"]))
                ^
      """#)
  }

  func testRuntimeError_ErrorInSortKeyCallback() {
    expectError("fn key(x) {\n  return x // 0\n}\nprint(sorted([2, 1], key))", syntax: false, #"""
      t.mp:2:12: error: integer division by zero
            return x // 0
                     ^
        at key (t.mp:2:12)
        at <top level> (t.mp:4:7)
      """#)
  }

  func testRuntimeError_TransposedLettersSuggestion() {
    expectError("let count = 1\nprint(cuont)", syntax: false, #"""
      t.mp:2:7: error: undefined name 'cuont'; did you mean 'count'?
          print(cuont)
                ^
      """#)
  }
}
