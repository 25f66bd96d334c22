/// Resolves every name to where it lives before anything runs: a slot in
/// the current frame, a captured variable (upvalue) of an enclosing
/// function, or a global looked up in the module's table. This is what lets
/// the evaluator index arrays instead of hashing names.
///
/// Globals are resolved by name at run time, so code may use functions
/// defined later, and the REPL may define names between entries. A name
/// that is never defined is an error only when that code runs.
public struct Resolver {
  private final class FunctionContext {
    let node: FnNode?
    var scopes: [[String: Decl]] = [[:]]
    var nextSlot = 0
    var maxSlot = 0
    var upvalues: [FnNode.UpvalueSource] = []
    var upvalueNames: [String] = []
    /// Globals this function (or one nested in it) uses.
    var globalRefs: Set<String> = []
    var upvalueIndex: [UpvalueKey: Int] = [:]
    /// The top-level chunk's outermost scope holds globals.
    let isTopLevel: Bool

    init(node: FnNode?, isTopLevel: Bool) {
      self.node = node
      self.isTopLevel = isTopLevel
    }

    func allocate() -> Int {
      let s = nextSlot
      nextSlot += 1
      maxSlot = max(maxSlot, nextSlot)
      return s
    }
  }

  private var functions: [FunctionContext] = []

  /// Frame size the top-level chunk needs for block-local variables.
  public private(set) var topLevelFrameSize = 0

  public init() {}

  /// Resolves a program (a script, a module, or one REPL entry).
  public mutating func resolveProgram(_ stmts: [Stmt]) {
    let top = FunctionContext(node: nil, isTopLevel: true)
    functions = [top]
    hoist(stmts)
    for s in stmts { resolve(s) }
    topLevelFrameSize = top.maxSlot
  }

  private var current: FunctionContext { functions[functions.count - 1] }

  private func isGlobalScope() -> Bool {
    current.isTopLevel && current.scopes.count == 1
  }

  private mutating func declare(_ d: Decl) {
    if isGlobalScope() {
      d.storage = .global
    } else {
      d.storage = .local(current.allocate())
    }
    current.scopes[current.scopes.count - 1][d.name] = d
  }

  private mutating func withScope(_ body: (inout Resolver) -> Void) {
    let ctx = current
    ctx.scopes.append([:])
    let saved = ctx.nextSlot
    body(&self)
    ctx.scopes.removeLast()
    ctx.nextSlot = saved
  }

  private mutating func block(_ stmts: [Stmt], declaring extra: [Decl] = []) {
    withScope { r in
      for d in extra { r.declare(d) }
      r.hoist(stmts)
      for s in stmts { r.resolve(s) }
    }
  }

  /// Functions declared in a block are visible in the whole block, so local
  /// helpers may call each other in any order.
  private mutating func hoist(_ stmts: [Stmt]) {
    for s in stmts {
      if case .fnDecl(let d, _) = s { declare(d) }
    }
  }

  private mutating func lookup(_ ref: NameRef) {
    ref.binding = bind(ref.name, level: functions.count - 1) ?? .global
    if case .global = ref.binding {
      for ctx in functions where !ctx.isTopLevel { ctx.globalRefs.insert(ref.name) }
    }
  }

  /// Finds `name` as seen from function `level`, threading upvalues through
  /// every function between the declaration and the use.
  private mutating func bind(_ name: String, level: Int) -> NameRef.Binding? {
    let ctx = functions[level]
    for scope in ctx.scopes.reversed() {
      if let d = scope[name] {
        if case .global = d.storage { return .global }
        return .local(d)
      }
    }
    guard level > 0 else { return nil }
    guard let outer = bind(name, level: level - 1) else { return nil }
    switch outer {
    case .global, .unresolved:
      return .global
    case .local(let d):
      d.isCaptured = true
      return .upvalue(addUpvalue(ctx, .parentLocal(d), key: .decl(ObjectIdentifier(d)), name: name))
    case .upvalue(let i):
      return .upvalue(addUpvalue(ctx, .parentUpvalue(i), key: .parentUpvalue(i), name: name))
    }
  }

  private enum UpvalueKey: Hashable {
    case decl(ObjectIdentifier)
    case parentUpvalue(Int)
  }

  /// Each captured variable appears once in a function's upvalue list.
  private mutating func addUpvalue(_ ctx: FunctionContext, _ source: FnNode.UpvalueSource, key: UpvalueKey,
                                   name: String) -> Int {
    if let i = ctx.upvalueIndex[key] { return i }
    ctx.upvalues.append(source)
    ctx.upvalueNames.append(name)
    let i = ctx.upvalues.count - 1
    ctx.upvalueIndex[key] = i
    return i
  }

  private mutating func resolveFunction(_ fn: FnNode) {
    let ctx = FunctionContext(node: fn, isTopLevel: false)
    functions.append(ctx)
    for p in fn.params {
      if let def = p.defaultValue { resolve(def) }
      declare(p.decl)
    }
    hoist(fn.body)
    for s in fn.body { resolve(s) }
    functions.removeLast()
    fn.upvalues = ctx.upvalues
    fn.upvalueNames = ctx.upvalueNames
    fn.globalRefs = ctx.globalRefs.sorted()
    fn.selfSlot = ctx.upvalues.isEmpty ? -1 : ctx.maxSlot
    fn.frameSize = ctx.maxSlot + (ctx.upvalues.isEmpty ? 0 : 1)
  }

  private mutating func resolve(_ s: Stmt) {
    switch s {
    case .expr(let e): resolve(e)
    case .letDecl(let d, let e):
      resolve(e)
      declare(d)
    case .letUnpack(let ds, let values, _):
      for v in values { resolve(v) }
      for d in ds { declare(d) }
    case .assign(let target, _, let value, _):
      resolve(value)
      resolve(target.expr)
    case .assignUnpack(let targets, let values, _):
      for v in values { resolve(v) }
      for t in targets { resolve(t.expr) }
    case .fnDecl(let d, let fn):
      if current.scopes[current.scopes.count - 1][d.name] !== d { declare(d) }
      resolveFunction(fn)
    case .ret(let e, _):
      if let e { resolve(e) }
    case .ifElse(let arms, let elseBody):
      for (c, body) in arms {
        resolve(c)
        block(body)
      }
      if let elseBody { block(elseBody) }
    case .whileLoop(let c, let body, _):
      resolve(c)
      block(body)
    case .forLoop(let pattern, let iter, let body, _):
      resolve(iter)
      block(body, declaring: pattern.decls)
    case .breakLoop, .continueLoop: break
    case .with(let e, let d, let body, _):
      resolve(e)
      block(body, declaring: d.map { [$0] } ?? [])
    case .tryCatch(let body, let clause, let finally, _):
      block(body)
      if let clause { block(clause.body, declaring: clause.decl.map { [$0] } ?? []) }
      if let finally { block(finally) }
    case .throwValue(let e, _): resolve(e)
    case .importFile(_, let d, _): declare(d)
    case .time(let body, _): block(body)
    }
  }

  private mutating func resolve(_ e: Expr) {
    switch e {
    case .literal: break
    case .interp(let pieces, _):
      for p in pieces { if case .expr(let x, _) = p { resolve(x) } }
    case .name(let ref): lookup(ref)
    case .list(let items, _): for i in items { resolve(i) }
    case .map(let entries, _):
      for (k, v) in entries {
        resolve(k)
        resolve(v)
      }
    case .unary(_, let x, _): resolve(x)
    case .binary(_, let a, let b, _):
      resolve(a)
      resolve(b)
    case .call(let f, let args, _):
      resolve(f)
      for a in args { resolve(a) }
    case .callKeywords(let f, let args, let keywords, _):
      resolve(f)
      for a in args { resolve(a) }
      for k in keywords { resolve(k.value) }
    case .slice(let a, let lo, let hi, let step, _):
      resolve(a)
      for x in [lo, hi, step] { if let x { resolve(x) } }
    case .comprehension(let c):
      // The iterable is read outside the loop's scope, as in Python.
      resolve(c.iterable)
      withScope { r in
        for d in c.pattern.decls { r.declare(d) }
        r.resolve(c.element)
        if let cond = c.condition { r.resolve(cond) }
      }
    case .index(let a, let i, _):
      resolve(a)
      resolve(i)
    case .member(let a, _, _): resolve(a)
    case .function(let fn): resolveFunction(fn)
    }
  }
}
