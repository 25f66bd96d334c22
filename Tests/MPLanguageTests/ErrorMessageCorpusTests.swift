import XCTest
@testable import MPLanguage

/// A corpus of malformed and failing programs with the exact rendered
/// diagnostic each must produce: `path:line:col: error: message`, the source
/// line, a caret under the column, and for runtime errors the mp call stack.
/// Every message here was read and judged clear and correctly placed; a
/// message found wrong is fixed, then added here, never enshrined as it is.
final class ErrorMessageCorpusTests: XCTestCase {
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
}
