/// Turns resolved syntax trees into Swift closures, once. Running a program
/// is then calling closures that index frame slots directly: no tree walk,
/// no name lookup, no dictionary on the hot path.
struct Compiler {
  unowned let interp: Interpreter
  let vm: UnsafeMutablePointer<VMState>
  let module: ModuleScope
  let echo: Bool
  /// The function being compiled (nil at top level).
  var function: FnNode? = nil
  var loopDepth = 0
  var blockDepth = 0
  /// Local names seen so far in this function, for "did you mean" hints.
  var localNames: [String] = []

  init(interp: Interpreter, module: ModuleScope, echo: Bool) {
    self.interp = interp
    self.vm = interp.vm
    self.module = module
    self.echo = echo
  }

  mutating func compileTopLevel(_ stmts: [Stmt]) throws -> StmtCode {
    try compileBlock(stmts, isFunctionBody: true)
  }

  // MARK: blocks and statements

  mutating func compileBlock(_ stmts: [Stmt], isFunctionBody: Bool = false) throws -> StmtCode {
    if !isFunctionBody { blockDepth += 1 }
    defer { if !isFunctionBody { blockDepth -= 1 } }
    return Compiler.sequence(try compileStatements(stmts, hoistingFrom: stmts)[...])
  }

  /// A function body whose last statement is `return e` returns e's value
  /// directly instead of passing it through `vm.retval`.
  mutating func compileFunctionBody(_ stmts: [Stmt]) throws -> ExprCode {
    let vm = self.vm
    // `if c { return a }` ... `return b`: base cases of recursive functions
    // become one conditional expression, with no statement flow at all.
    if stmts.count >= 2, case .ret(let last?, _)? = stmts.last,
      stmts.dropLast().allSatisfy({ Compiler.isGuardReturn($0) }),
      !stmts.contains(where: { if case .fnDecl = $0 { return true }; return false })
    {
      var code = try compileExpr(last)
      for s in stmts.dropLast().reversed() {
        guard case .ifElse(let arms, nil) = s, case .ret(let e?, _) = arms[0].1[0] else { continue }
        if let fused = try guardReturn(arms[0].0, e, rest: code) {
          code = fused
        } else {
          code = try withOperand(e, GuardReturn(cond: try compileCond(arms[0].0), rest: code)).run
        }
      }
      return code
    }
    if case .ret(let e?, _)? = stmts.last {
      let prefix = Compiler.sequence(try compileStatements(Array(stmts.dropLast()), hoistingFrom: stmts)[...])
      let tail = try compileExpr(e)
      if stmts.count == 1 { return tail }
      return { fp in
        if case .returned = try prefix(fp) {
          let r = vm.pointee.retval
          vm.pointee.retval = .nil
          return r
        }
        return try tail(fp)
      }
    }
    let body = Compiler.sequence(try compileStatements(stmts, hoistingFrom: stmts)[...])
    return { fp in
      if case .returned = try body(fp) {
        let r = vm.pointee.retval
        vm.pointee.retval = .nil
        return r
      }
      return .nil
    }
  }

  /// `if c { return e }` with no else and nothing else in the block.
  static func isGuardReturn(_ s: Stmt) -> Bool {
    guard case .ifElse(let arms, nil) = s, arms.count == 1, arms[0].1.count == 1,
      case .ret(.some, _) = arms[0].1[0]
    else { return false }
    return true
  }

  mutating func compileStatements(_ stmts: [Stmt], hoistingFrom block: [Stmt]) throws -> [StmtBox] {
    var codes: [StmtBox] = []
    // Hoisted local functions that inner functions capture need their cell
    // before any closure over them is made.
    for s in block {
      if case .fnDecl(let d, _) = s, d.isCaptured, case .local(let slot) = d.storage {
        codes.append(StmtBox { fp in
          fp[slot] = .object(Cell(.nil))
          return .next
        })
      }
    }
    for s in stmts { codes.append(StmtBox(run: try compileStatement(s))) }
    return codes
  }

  /// Chains statements by capture, in halves: closures kept in an array
  /// would be called through a reabstraction thunk each time.
  static func sequence(_ codes: ArraySlice<StmtBox>) -> StmtCode {
    switch codes.count {
    case 0: return { _ in .next }
    case 1: return codes[codes.startIndex].run
    default:
      let mid = codes.startIndex + codes.count / 2
      let a = sequence(codes[..<mid]), b = sequence(codes[mid...])
      return { fp in
        let f = try a(fp)
        if case .next = f { return try b(fp) }
        return f
      }
    }
  }

  var isTopLevelStatement: Bool { function == nil && blockDepth == 0 }

  mutating func compileStatement(_ s: Stmt) throws -> StmtCode {
    switch s {
    case .expr(let e):
      let code = try compileExpr(e)
      if echo && isTopLevelStatement {
        let interp = self.interp
        return { fp in
          let v = try code(fp)
          if case .nil = v {} else { interp.echo?(v) }
          return .next
        }
      }
      return { fp in
        _ = try code(fp)
        return .next
      }
    case .letDecl(let d, let e):
      let code = try compileExpr(e, name: d.name)
      let store = try storeDecl(d)
      localNames.append(d.name)
      return { fp in
        store(fp, try code(fp))
        return .next
      }
    case .letUnpack(let decls, let values, let loc):
      return try compileLetUnpack(decls, values, loc)
    case .assign(let target, let op, let value, let loc):
      return try compileAssign(target, op, value, loc)
    case .assignUnpack(let targets, let values, let loc):
      return try compileAssignUnpack(targets, values, loc)
    case .fnDecl(let d, let fn):
      localNames.append(d.name)
      let make = try compileFunction(fn)
      let store = try storeFunctionDecl(d)
      return { fp in
        store(fp, make(fp))
        return .next
      }
    case .ret(let e, let loc):
      guard function != nil else {
        throw MPError.syntax("'return' outside a function", at: loc)
      }
      let vm = self.vm
      guard let e else {
        return { _ in
          vm.pointee.retval = .nil
          return .returned
        }
      }
      let code = try compileExpr(e)
      return { fp in
        vm.pointee.retval = try code(fp)
        return .returned
      }
    case .ifElse(let arms, let elseBody):
      return try compileIf(arms, elseBody)
    case .whileLoop(let cond, let body, let loc):
      return try compileWhile(cond, body, loc)
    case .forLoop(let pattern, let iter, let body, let loc):
      return try compileFor(pattern, iter, body, loc)
    case .breakLoop(let loc):
      guard loopDepth > 0 else { throw MPError.syntax("'break' outside a loop", at: loc) }
      return { _ in .breakLoop }
    case .continueLoop(let loc):
      guard loopDepth > 0 else { throw MPError.syntax("'continue' outside a loop", at: loc) }
      return { _ in .continueLoop }
    case .with(let e, let d, let body, let loc):
      return try compileWith(e, d, body, loc)
    case .tryCatch(let body, let clause, let finally, _):
      var code = try compileBlock(body)
      if let clause { code = try compileCatch(code, clause) }
      if let finally { code = try compileFinally(code, finally) }
      return code
    case .throwValue(let e, let loc):
      let code = try compileExpr(e)
      return { fp in throw Interpreter.thrown(try code(fp), at: loc) }
    case .importFile(let path, let d, let loc):
      let interp = self.interp
      let store = try storeDecl(d)
      let file = loc.file
      return { fp in
        let m = try interp.importModule(path, from: file, at: loc)
        store(fp, .object(m))
        return .next
      }
    case .time(let body, let loc):
      let code = try compileBlock(body)
      let interp = self.interp
      return { fp in
        let t = Timing.start(interp)
        defer { Timing.report(t, interp, label: "time (line \(loc.line))") }
        return try code(fp)
      }
    }
  }

  mutating func compileIf(_ arms: [(Expr, [Stmt])], _ elseBody: [Stmt]?) throws -> StmtCode {
    // Chain the arms from the last: each `else` is the next arm's code.
    var rest: StmtCode = { _ in .next }
    var hasElse = false
    if let elseBody {
      rest = try compileBlock(elseBody)
      hasElse = true
    }
    for (cond, body) in arms.reversed() {
      let c = try compileCond(cond), b = try compileBlock(body)
      if hasElse {
        let e = rest
        rest = { fp in try c(fp) ? try b(fp) : try e(fp) }
      } else {
        rest = { fp in try c(fp) ? try b(fp) : .next }
      }
      hasElse = true
    }
    return rest
  }

  mutating func compileWhile(_ cond: Expr, _ body: [Stmt], _ loc: SourceLocation) throws -> StmtCode {
    let c = try compileCond(cond)
    loopDepth += 1
    let b = try compileBlock(body)
    loopDepth -= 1
    let vm = self.vm, interp = self.interp
    return { fp in
      while try c(fp) {
        switch try b(fp) {
        case .next, .continueLoop: break
        case .breakLoop: return .next
        case .returned: return .returned
        }
        vm.pointee.ticks &-= 1
        if vm.pointee.ticks <= 0 { try interp.slowTick(loc) }
      }
      return .next
    }
  }

  mutating func compileWith(_ e: Expr, _ d: Decl?, _ body: [Stmt], _ loc: SourceLocation) throws -> StmtCode {
    let code = try compileExpr(e)
    let store = try d.map { try storeDecl($0) }
    if let d { localNames.append(d.name) }
    let b = try compileBlock(body)
    let interp = self.interp
    return { fp in
      let v = try code(fp)
      guard case .object(let o) = v, let entered = try o.enter(interp) else {
        throw MPError(.type, "'with' needs a lock, semaphore or pool, found \(v.typeName)", at: loc)
      }
      store?(fp, entered)
      var failed = true
      defer { if failed { o.exitAfterError(interp) } }
      let f = try b(fp)
      failed = false
      do {
        try o.exit(interp)
      } catch let e as MPError {
        throw e.located(loc)
      }
      return f
    }
  }

  /// `try { } catch e { }`: the body's errors go to the handler.
  mutating func compileCatch(_ b: @escaping StmtCode, _ clause: CatchClause) throws -> StmtCode {
    let store = try clause.decl.map { try storeDecl($0) }
    if let d = clause.decl { localNames.append(d.name) }
    let h = try compileBlock(clause.body)
    let vm = self.vm
    return { fp in
      let sp = vm.pointee.sp, depth = vm.pointee.depth
      do {
        return try b(fp)
      } catch let e as MPError {
        // Frames below were already unwound by their own defers.
        vm.pointee.sp = sp
        vm.pointee.depth = depth
        store?(fp, Interpreter.errorValue(e))
        return try h(fp)
      }
    }
  }

  /// `finally { }` runs on every exit of what it guards: normal end,
  /// `break`, `continue`, `return` (whose value is kept while it runs) and
  /// errors (raised again after it). A `return`, `break` or `continue`
  /// inside the finally block itself wins, as in Python.
  mutating func compileFinally(_ b: @escaping StmtCode, _ finally: [Stmt]) throws -> StmtCode {
    let f = try compileBlock(finally)
    let vm = self.vm
    return { fp in
      let sp = vm.pointee.sp, depth = vm.pointee.depth
      let flow: Flow
      do {
        flow = try b(fp)
      } catch {
        vm.pointee.sp = sp
        vm.pointee.depth = depth
        let own = try f(fp)
        if case .next = own { throw error }
        return own
      }
      // A call in the finally block would clear the pending return value.
      let pending = vm.pointee.retval
      vm.pointee.retval = .nil
      let own = try f(fp)
      if case .next = own {
        vm.pointee.retval = pending
        return flow
      }
      return own
    }
  }

  // MARK: storing names

  /// Stores into a freshly declared name. A captured local gets a new cell
  /// each time, so closures made in a loop each see their own iteration.
  func storeDecl(_ d: Decl) throws -> (Frame, Value) -> Void {
    switch d.storage {
    case .global, .unresolved:
      let m = module
      let i: Int
      do { i = try module.slot(d.name) } catch let e as MPError { throw e.located(d.loc) }
      return { _, v in m.define(i, v) }
    case .local(let s):
      if d.isCaptured { return { fp, v in fp[s] = .object(Cell(v)) } }
      return { fp, v in fp[s] = v }
    }
  }

  /// A hoisted function declaration fills the cell made at block entry.
  func storeFunctionDecl(_ d: Decl) throws -> (Frame, Value) -> Void {
    if case .local(let s) = d.storage, d.isCaptured {
      return { fp, v in
        if let c = cellAt(fp, s) { c.value = v } else { fp[s] = .object(Cell(v)) }
      }
    }
    return try storeDecl(d)
  }

  // MARK: functions

  /// Compiles a function literal; the result makes a closure in the current frame.
  mutating func compileFunction(_ fn: FnNode) throws -> (Frame) -> Value {
    var inner = Compiler(interp: interp, module: module, echo: false)
    inner.function = fn
    inner.localNames = fn.params.map { $0.decl.name }
    let defaults = try fn.params.map { p in try p.defaultValue.map { try inner.compileExpr($0) } }
    let run: ExprCode
    let bytecode = interp.usesBytecode ? BytecodeCompiler.compile(fn, inner) : nil
    if let bytecode {
      let interp = self.interp
      run = { fp in try interp.runBytecode(bytecode, fp) }
    } else if fn.isArrow, fn.body.count == 1, case .ret(let e?, _) = fn.body[0] {
      run = try inner.compileExpr(e)
    } else {
      run = try inner.compileFunctionBody(fn.body)
    }
    let proto = FunctionProto(node: fn, module: module, defaults: defaults, run: run, bytecode: bytecode)
    if fn.upvalues.isEmpty {
      let shared = Closure(proto, [])
      return { _ in .function(shared) }
    }
    let sources = fn.upvalues
    let selfSlot = function?.selfSlot ?? -1
    return { fp in
      var cells: [Cell] = []
      cells.reserveCapacity(sources.count)
      for src in sources {
        switch src {
        case .parentLocal(let d):
          if case .local(let s) = d.storage, let c = cellAt(fp, s) {
            cells.append(c)
          } else {
            cells.append(Cell(.nil))
          }
        case .parentUpvalue(let i):
          if selfSlot >= 0, case .function(let me) = fp[selfSlot], i < me.cells.count {
            cells.append(me.cells[i])
          } else {
            cells.append(Cell(.nil))
          }
        }
      }
      return .function(Closure(proto, cells))
    }
  }
}

/// The cell in a captured local's slot (nil before its declaration ran).
@inline(__always)
func cellAt(_ fp: Frame, _ s: Int) -> Cell? {
  if case .object(let o) = fp[s], type(of: o) == Cell.self { return unsafeDowncast(o, to: Cell.self) }
  return nil
}
