import XCTest
@testable import MPLanguage

/// The runtime half of the error-message corpus (the syntax half and what
/// the corpus is: ErrorMessageCorpusTests): each failing program with the
/// exact rendered error, its place and the mp call stack.
final class RuntimeErrorCorpusTests: XCTestCase {
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
