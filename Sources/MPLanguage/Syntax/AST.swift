/// Syntax trees. Names, declarations and functions are classes so that the
/// resolver can annotate them in place (slot numbers, captures) for the
/// compiler; everything else is a value.

/// A declared name: `let x`, a parameter, a loop variable, `fn f`, `catch e`.
public final class Decl {
  public let name: String
  public let loc: SourceLocation
  /// Filled by the resolver.
  var storage: Storage = .unresolved
  /// Set when an inner function refers to this local: it then lives in a cell.
  var isCaptured = false

  enum Storage: Equatable {
    case unresolved
    case global
    case local(Int)
  }

  public init(_ name: String, _ loc: SourceLocation) {
    self.name = name
    self.loc = loc
  }
}

/// A use of a name in an expression or as an assignment target.
public final class NameRef {
  public let name: String
  public let loc: SourceLocation
  var binding: Binding = .unresolved

  enum Binding {
    case unresolved
    case local(Decl)
    case upvalue(Int)
    case global
  }

  public init(_ name: String, _ loc: SourceLocation) {
    self.name = name
    self.loc = loc
  }
}

public struct Param {
  public let decl: Decl
  public let defaultValue: Expr?
}

/// A function literal or declaration.
public final class FnNode {
  public let name: String
  public let params: [Param]
  public let body: [Stmt]
  public let loc: SourceLocation
  /// True for `fn(x) => expr`: the body is a single return.
  public let isArrow: Bool
  /// The source text of the whole function, kept so it can be sent to
  /// processes that do not have it.
  public var sourceText: String = ""
  var frameSize = 0
  var upvalues: [UpvalueSource] = []
  /// The captured variables' names, in the order of `upvalues`.
  var upvalueNames: [String] = []
  /// Global names the function's code refers to (nested functions included).
  var globalRefs: [String] = []
  var selfSlot = -1

  enum UpvalueSource {
    case parentLocal(Decl)
    case parentUpvalue(Int)
  }

  public init(name: String, params: [Param], body: [Stmt], loc: SourceLocation, isArrow: Bool) {
    self.name = name
    self.params = params
    self.body = body
    self.loc = loc
    self.isArrow = isArrow
  }
}

public enum InterpPiece {
  case text(String)
  case expr(Expr, spec: String?)
}

public indirect enum Expr {
  case literal(Value, SourceLocation)
  case interp([InterpPiece], SourceLocation)
  case name(NameRef)
  case list([Expr], SourceLocation)
  case map([(Expr, Expr)], SourceLocation)
  /// `-x`, `~x` or `not x`.
  case unary(UnaryOperator, Expr, SourceLocation)
  /// Arithmetic, bitwise, comparison, `in`, `not in`, `and`, `or`.
  case binary(BinaryOperator, Expr, Expr, SourceLocation)
  case call(Expr, [Expr], SourceLocation)
  /// A call with keyword arguments: `f(1, timeout=2)`. Kept apart from
  /// `call` so that positional calls, the hot path, stay as they are.
  case callKeywords(Expr, [Expr], [KeywordArg], SourceLocation)
  case index(Expr, Expr, SourceLocation)
  /// `xs[a:b]` or `xs[a:b:step]`; a missing bound is nil.
  case slice(Expr, Expr?, Expr?, Expr?, SourceLocation)
  /// `[f(x) for x in xs if p(x)]`.
  case comprehension(Comprehension)
  case member(Expr, String, SourceLocation)
  case function(FnNode)

  public var loc: SourceLocation {
    switch self {
    case .literal(_, let l), .interp(_, let l), .list(_, let l), .map(_, let l), .unary(_, _, let l),
      .binary(_, _, _, let l), .call(_, _, let l), .index(_, _, let l), .member(_, _, let l),
      .callKeywords(_, _, _, let l), .slice(_, _, _, _, let l):
      return l
    case .comprehension(let c): return c.loc
    case .name(let n): return n.loc
    case .function(let f): return f.loc
    }
  }
}

/// `name=value` in a call.
public struct KeywordArg {
  public let name: String
  public let value: Expr
  public let loc: SourceLocation
}

/// `[element for pattern in iterable if condition]`. A class so the
/// resolver and compiler see the same pattern declarations.
public final class Comprehension {
  public let element: Expr
  public let pattern: Pattern
  public let iterable: Expr
  public let condition: Expr?
  public let loc: SourceLocation

  public init(element: Expr, pattern: Pattern, iterable: Expr, condition: Expr?, loc: SourceLocation) {
    self.element = element
    self.pattern = pattern
    self.iterable = iterable
    self.condition = condition
    self.loc = loc
  }
}

/// What an assignment can store into (grammar.md, `target`): a name, an
/// index or a member. A parenthesised expression is none of these.
public enum AssignTarget {
  case name(NameRef)
  case index(Expr, Expr, SourceLocation)
  case member(Expr, String, SourceLocation)

  /// The target read as an expression (for `x += 1`, which reads it first).
  public var expr: Expr {
    switch self {
    case .name(let r): return .name(r)
    case .index(let a, let i, let l): return .index(a, i, l)
    case .member(let a, let n, let l): return .member(a, n, l)
    }
  }
}

/// A loop or `with` target: one name, or several unpacked from a list.
public enum Pattern {
  case single(Decl)
  case unpack([Decl])

  var decls: [Decl] {
    switch self {
    case .single(let d): return [d]
    case .unpack(let ds): return ds
    }
  }
}

public struct CatchClause {
  public let decl: Decl?
  public let body: [Stmt]
}

public indirect enum Stmt {
  case expr(Expr)
  case letDecl(Decl, Expr)
  /// `let a, b = pair` or `let a, b = 1, 2` (one value: a list to unpack;
  /// several: one per name).
  case letUnpack([Decl], [Expr], SourceLocation)
  /// `target = value` or `target op= value`.
  case assign(AssignTarget, ArithmeticOperator?, Expr, SourceLocation)
  /// `a, b = b, a`: every value is computed before any target is stored.
  case assignUnpack([AssignTarget], [Expr], SourceLocation)
  case fnDecl(Decl, FnNode)
  case ret(Expr?, SourceLocation)
  case ifElse([(Expr, [Stmt])], [Stmt]?)
  case whileLoop(Expr, [Stmt], SourceLocation)
  case forLoop(Pattern, Expr, [Stmt], SourceLocation)
  case breakLoop(SourceLocation)
  case continueLoop(SourceLocation)
  case with(Expr, Decl?, [Stmt], SourceLocation)
  /// `try` block, an optional `catch [name]` block, an optional `finally`
  /// block (at least one of the two).
  case tryCatch([Stmt], CatchClause?, [Stmt]?, SourceLocation)
  case throwValue(Expr, SourceLocation)
  case importFile(String, Decl, SourceLocation)
  case time([Stmt], SourceLocation)
}
