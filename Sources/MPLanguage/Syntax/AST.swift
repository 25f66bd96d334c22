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
  /// `-x` or `not x`.
  case unary(String, Expr, SourceLocation)
  /// Arithmetic, comparison, `in`, `not in`, `and`, `or`.
  case binary(String, Expr, Expr, SourceLocation)
  case call(Expr, [Expr], SourceLocation)
  case index(Expr, Expr, SourceLocation)
  case member(Expr, String, SourceLocation)
  case function(FnNode)

  public var loc: SourceLocation {
    switch self {
    case .literal(_, let l), .interp(_, let l), .list(_, let l), .map(_, let l), .unary(_, _, let l),
      .binary(_, _, _, let l), .call(_, _, let l), .index(_, _, let l), .member(_, _, let l):
      return l
    case .name(let n): return n.loc
    case .function(let f): return f.loc
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

public indirect enum Stmt {
  case expr(Expr)
  case letDecl(Decl, Expr)
  /// `target = value` or `target op= value` (op is "+", "-", ...).
  case assign(Expr, String?, Expr, SourceLocation)
  case fnDecl(Decl, FnNode)
  case ret(Expr?, SourceLocation)
  case ifElse([(Expr, [Stmt])], [Stmt]?)
  case whileLoop(Expr, [Stmt], SourceLocation)
  case forLoop(Pattern, Expr, [Stmt], SourceLocation)
  case breakLoop(SourceLocation)
  case continueLoop(SourceLocation)
  case with(Expr, Decl?, [Stmt], SourceLocation)
  case tryCatch([Stmt], Decl?, [Stmt], SourceLocation)
  case throwValue(Expr, SourceLocation)
  case importFile(String, Decl, SourceLocation)
  case time([Stmt], SourceLocation)
}
