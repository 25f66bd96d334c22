/// The kinds of token the lexer produces.
public enum TokenKind: Equatable, Sendable {
  case int(Int)
  /// 9223372036854775808 right after '-': only the negative literal fits.
  case minIntMagnitude
  case float(Double)
  /// A string literal; `parts` alternate literal text and `{expr:spec}` holes.
  case string([StringPart])
  case ident(String)
  case keyword(Keyword)
  case op(String)
  case newline
  case eof
}

/// One piece of a string literal: literal text or an interpolated expression.
public enum StringPart: Equatable, Sendable {
  case text(String)
  /// Source text of the expression, where it starts, and the format spec after `:`.
  case hole(source: String, at: SourceLocation, spec: String?)
}

public enum Keyword: String, CaseIterable, Sendable {
  case `let`, `fn`, `return`, `if`, `else`, `while`, `for`, `in`, `break`,
    `continue`, `with`, `as`, `try`, `catch`, `throw`, `import`, `and`, `or`,
    `not`, `true`, `false`, `nil`
}

public struct Token: Equatable, Sendable {
  public var kind: TokenKind
  public var loc: SourceLocation

  public init(_ kind: TokenKind, _ loc: SourceLocation) {
    self.kind = kind
    self.loc = loc
  }

  /// How the token reads in an error message: `'else'`, `end of input`.
  public var display: String {
    switch kind {
    case .int(let v): return "number '\(v)'"
    case .minIntMagnitude: return "number '9223372036854775808'"
    case .float(let v): return "number '\(v)'"
    case .string: return "string"
    case .ident(let s): return "name '\(s)'"
    case .keyword(let k): return "'\(k.rawValue)'"
    case .op(let o): return "'\(o)'"
    case .newline: return "end of line"
    case .eof: return "end of input"
    }
  }

  func isOp(_ s: String) -> Bool {
    if case .op(let o) = kind { return o == s }
    return false
  }

  func isKeyword(_ k: Keyword) -> Bool {
    if case .keyword(let x) = kind { return x == k }
    return false
  }
}
