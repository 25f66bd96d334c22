/// Compiles a function body to register bytecode (Values/Bytecode.swift)
/// when everything in it is something the bytecode runs; otherwise gives
/// up, and the closure compiler compiles the function as before. Both give
/// the same results, errors and evaluation order (the callee of a call is
/// looked up before its arguments are computed, as in Python).
struct BytecodeCompiler {
  /// The closure compiler of the same function: global slots, and the
  /// local names an undefined-name error suggests.
  var compiler: Compiler
  let fn: FnNode
  private var code: [Instr] = []
  private var locs: [SourceLocation] = []
  private var constants: [Value] = []
  private var globals: [GlobalOperand] = []
  private var sites: [BytecodeCallSite] = []
  private var nextTemp: Int
  private var maxTemp: Int
  /// For each enclosing `while`: its first instruction and the jumps of its `break`s.
  private var loops: [(top: Int, breaks: [Int])] = []

  /// Thrown for anything the bytecode does not run; never escapes `compile`.
  struct Unsupported: Error {}

  /// The bytecode of `fn`'s body, or nil when the closure compiler must take it.
  static func compile(_ fn: FnNode, _ compiler: Compiler) -> Bytecode? {
    guard ValueLayout.isAsExpected, fn.upvalues.isEmpty, fn.selfSlot < 0,
      fn.params.allSatisfy({ $0.defaultValue == nil && !$0.decl.isCaptured })
    else { return nil }
    var c = BytecodeCompiler(compiler: compiler, fn: fn)
    do {
      for s in fn.body { try c.statement(s) }
      c.emit(.retNil, 0, 0, 0, fn.loc)
    } catch {
      return nil
    }
    // Constants get the registers after the temporaries: every operand is
    // then a register, and a call copies the constants into its frame.
    let first = c.maxTemp
    func register(_ o: Int32) -> Int32 { o >= 0 ? o : Int32(first) + ~o }
    for i in c.code.indices {
      switch c.code[i].op {
      case .loadGlobal, .needGlobal, .jump, .loop, .retNil:
        break
      case .call:
        break
      case .callSubK:
        c.code[i].c = register(c.code[i].c)
      case .addI, .subI, .mulI, .jumpUnlessLtI, .jumpUnlessLeI, .jumpUnlessGtI, .jumpUnlessGeI,
        .jumpUnlessEqI, .jumpUnlessNeI:
        c.code[i].b = register(c.code[i].b)
      case .retIfLtI, .retIfLeI, .retIfGtI, .retIfGeI, .retIfEqI, .retIfNeI:
        c.code[i].a = register(c.code[i].a)
        c.code[i].b = register(c.code[i].b)
      default:
        c.code[i].b = register(c.code[i].b)
        c.code[i].c = register(c.code[i].c)
      }
    }
    return Bytecode(code: c.code, locs: c.locs, constants: c.constants, firstConstant: first,
                    globals: c.globals, sites: c.sites, frameSize: first + c.constants.count)
  }

  private init(compiler: Compiler, fn: FnNode) {
    self.compiler = compiler
    self.fn = fn
    nextTemp = fn.frameSize
    maxTemp = fn.frameSize
  }

  // MARK: emitting

  @discardableResult
  private mutating func emit(_ op: Opcode, _ a: Int32, _ b: Int32, _ c: Int32, _ loc: SourceLocation) -> Int {
    code.append(Instr(op: op, a: a, b: b, c: c))
    locs.append(loc)
    return code.count - 1
  }

  private mutating func patch(_ jumps: [Int]) {
    for j in jumps { code[j].a = Int32(code.count - j) }
  }

  private mutating func temp() -> Int32 {
    let t = nextTemp
    nextTemp += 1
    maxTemp = max(maxTemp, nextTemp)
    return Int32(t)
  }

  private mutating func constant(_ v: Value) -> Int32 {
    constants.append(v)
    return ~Int32(constants.count - 1)
  }

  private func isTemp(_ r: Int32) -> Bool { Int(r) >= fn.frameSize }

  /// A plain local's slot, or nil (captured locals live in cells).
  private func localSlot(_ ref: NameRef) -> Int32? {
    guard case .local(let d) = ref.binding, !d.isCaptured, case .local(let s) = d.storage else { return nil }
    return Int32(s)
  }

  private mutating func global(_ ref: NameRef) throws -> Int32 {
    globals.append(try compiler.globalOperand(ref))
    return Int32(globals.count - 1)
  }

  // MARK: statements

  private mutating func statement(_ s: Stmt) throws {
    let mark = nextTemp
    defer { nextTemp = mark }
    switch s {
    case .expr(let e):
      _ = try operand(e)
    case .letDecl(let d, let e):
      guard !d.isCaptured, case .local(let slot) = d.storage else { throw Unsupported() }
      try exprInto(e, Int32(slot))
      compiler.localNames.append(d.name)
    case .assign(.name(let ref), let op, let e, let loc):
      guard let slot = localSlot(ref) else { throw Unsupported() }
      if let op {
        let v = try operand(e)
        emit(try arithmetic(op), slot, slot, v, loc)
      } else {
        try exprInto(e, slot)
      }
    case .ret(.binary(.arithmetic(.add), let a, let b, let addLoc)?, _):
      let x = try operand(a), y = try operand(b)
      emit(.retAdd, 0, x, y, addLoc)
    case .ifElse(let arms, nil) where arms.count == 1 && arms[0].1.count == 1:
      // `if x < 2 { return r }` with r a local or a constant: one instruction.
      if case .ret(let r?, _) = arms[0].1[0], isSimple(r),
        case .binary(.comparison(let op), let a, let b, let loc) = arms[0].0, let i = immediate(b)
      {
        let x = try operand(a)
        let ret = Self.comparison(op, .returnIf)
        emit(ret, try operand(r), x, i, loc)
        return
      }
      let skip = try jumpUnless(arms[0].0)
      try block(arms[0].1)
      patch(skip)
    case .ret(let e, let loc):
      if let e {
        emit(.ret, 0, try operand(e), 0, loc)
      } else {
        emit(.retNil, 0, 0, 0, loc)
      }
    case .ifElse(let arms, let elseBody):
      var ends: [Int] = []
      for (i, (cond, body)) in arms.enumerated() {
        let skip = try jumpUnless(cond)
        try block(body)
        if i < arms.count - 1 || elseBody != nil { ends.append(emit(.jump, 0, 0, 0, fn.loc)) }
        patch(skip)
      }
      if let elseBody { try block(elseBody) }
      patch(ends)
    case .whileLoop(let cond, let body, let loc):
      let top = code.count
      let exit = try jumpUnless(cond)
      loops.append((top, []))
      try block(body)
      emit(.loop, Int32(top - code.count), 0, 0, loc)
      patch(exit)
      patch(loops.removeLast().breaks)
    case .breakLoop(let loc):
      guard !loops.isEmpty else { throw Unsupported() }
      loops[loops.count - 1].breaks.append(emit(.jump, 0, 0, 0, loc))
    case .continueLoop(let loc):
      guard let top = loops.last?.top else { throw Unsupported() }
      emit(.loop, Int32(top - code.count), 0, 0, loc)
    default:
      throw Unsupported()
    }
  }

  private mutating func block(_ stmts: [Stmt]) throws {
    for s in stmts { try statement(s) }
  }

  // MARK: conditions

  /// Code that jumps when `e` is falsy; returns the jumps to patch to
  /// where the false branch starts.
  private mutating func jumpUnless(_ e: Expr) throws -> [Int] {
    switch e {
    case .binary(.comparison(let op), let a, let b, let loc):
      let x = try operand(a)
      if let i = immediate(b) {
        let jump = Self.comparison(op, .jumpUnlessInt)
        return [emit(jump, 0, x, i, loc)]
      }
      let y = try operand(b)
      let jump = Self.comparison(op, .jumpUnless)
      return [emit(jump, 0, x, y, loc)]
    case .binary(.and, let a, let b, _):
      let first = try jumpUnless(a)
      return first + (try jumpUnless(b))
    case .literal(let v, let loc):
      return v.isTruthy ? [] : [emit(.jump, 0, 0, 0, loc)]
    default:
      return [emit(.jumpIfFalse, 0, try operand(e), 0, e.loc)]
    }
  }

  // MARK: expressions

  private func arithmetic(_ op: ArithmeticOperator) throws -> Opcode {
    switch op {
    case .add: return .add
    case .subtract: return .sub
    case .multiply: return .mul
    case .divide: return .div
    case .floorDivide: return .floorDiv
    case .modulo: return .mod
    case .bitAnd, .bitOr, .bitXor, .shiftLeft, .shiftRight: throw Unsupported()
    }
  }

  /// An operand holding `e`'s value: a local's register, a constant, or a
  /// temporary the value is computed into.
  private mutating func operand(_ e: Expr) throws -> Int32 {
    switch e {
    case .literal(let v, _):
      return constant(v)
    case .name(let ref):
      if let s = localSlot(ref) { return s }
    default:
      break
    }
    let t = temp()
    try exprInto(e, t)
    return t
  }

  /// The left operand of an operation into `dst`: computed in `dst` itself
  /// when that is a temporary (nothing else reads it before the operation
  /// writes it), which keeps frames small.
  private mutating func leftOperand(_ e: Expr, _ dst: Int32) throws -> Int32 {
    guard isTemp(dst) else { return try operand(e) }
    switch e {
    case .literal, .name: return try operand(e)
    default:
      try exprInto(e, dst)
      return dst
    }
  }

  /// Code that computes `e` into register `dst`. Only the last instruction
  /// writes `dst`, so `x = x + f(x)` reads the old `x` throughout.
  private mutating func exprInto(_ e: Expr, _ dst: Int32) throws {
    switch e {
    case .literal(let v, let loc):
      emit(.move, dst, constant(v), 0, loc)
    case .name(let ref):
      if let s = localSlot(ref) {
        if s != dst { emit(.move, dst, s, 0, ref.loc) }
        return
      }
      switch ref.binding {
      case .global, .unresolved: emit(.loadGlobal, dst, try global(ref), 0, ref.loc)
      default: throw Unsupported()
      }
    case .binary(.arithmetic(let op), let a, let b, let loc):
      let opcode = try arithmetic(op)
      let x = try leftOperand(a, dst)
      if let i = immediate(b), let withInt = Compiler.immediateForm(opcode) {
        emit(withInt, dst, x, i, loc)
        return
      }
      emit(opcode, dst, x, try operand(b), loc)
    case .binary(.comparison(let op), let a, let b, let loc):
      let x = try leftOperand(a, dst), y = try operand(b)
      let opcode = Self.comparison(op, .value)
      emit(opcode, dst, x, y, loc)
    case .binary(let op, let a, let b, let loc) where op == .and || op == .or:
      // Into a fresh register: the right side may read `dst`'s old value.
      let t = isTemp(dst) ? dst : temp()
      try exprInto(a, t)
      let skip = emit(op == .and ? .jumpIfFalse : .jumpIfTrue, 0, t, 0, loc)
      try exprInto(b, t)
      patch([skip])
      if t != dst { emit(.move, dst, t, 0, loc) }
    case .unary(.not, let x, let loc):
      emit(.not, dst, try operand(x), 0, loc)
    case .unary(.negate, let x, let loc):
      emit(.neg, dst, try operand(x), 0, loc)
    case .call(.name(let ref), let args, _):
      switch ref.binding {
      case .global, .unresolved: try call(ref, args, dst)
      default: throw Unsupported()
      }
    default:
      throw Unsupported()
    }
  }

  /// The forms a comparison is compiled to.
  enum ComparisonForm: Int {
    /// `a = b op c`
    case value
    /// jump unless `b op c`; the same with c an int in the instruction
    case jumpUnless, jumpUnlessInt
    /// return `a` if `b op c`, c an int in the instruction
    case returnIf
  }

  private static let comparisonOpcodes: [[Opcode]] = [
    [.lt, .le, .gt, .ge, .eq, .ne],
    [.jumpUnlessLt, .jumpUnlessLe, .jumpUnlessGt, .jumpUnlessGe, .jumpUnlessEq, .jumpUnlessNe],
    [.jumpUnlessLtI, .jumpUnlessLeI, .jumpUnlessGtI, .jumpUnlessGeI, .jumpUnlessEqI, .jumpUnlessNeI],
    [.retIfLtI, .retIfLeI, .retIfGtI, .retIfGeI, .retIfEqI, .retIfNeI],
  ]

  /// The opcode of comparison `op` in `form`.
  private static func comparison(_ op: ComparisonOperator, _ form: ComparisonForm) -> Opcode {
    let i: Int
    switch op {
    case .less: i = 0
    case .lessOrEqual: i = 1
    case .greater: i = 2
    case .greaterOrEqual: i = 3
    case .equal: i = 4
    case .notEqual: i = 5
    }
    return comparisonOpcodes[form.rawValue][i]
  }

  /// An int literal that fits an instruction's operand field.
  private func immediate(_ e: Expr) -> Int32? {
    guard case .literal(.int(let i), _) = e, let v = Int32(exactly: i) else { return nil }
    return v
  }

  /// True for an expression that cannot fail, print or call anything.
  private func isSimple(_ e: Expr) -> Bool {
    switch e {
    case .literal: return true
    case .name(let ref): return localSlot(ref) != nil
    default: return false
    }
  }

  private func containsCall(_ e: Expr) -> Bool {
    switch e {
    case .literal, .name: return false
    case .binary(_, let a, let b, _): return containsCall(a) || containsCall(b)
    case .unary(_, let x, _): return containsCall(x)
    default: return true
    }
  }

  /// A call of global `ref`. The callee is looked up before the arguments
  /// run: first its definedness, and when an argument calls something
  /// (which could rebind the name), its value, kept in a register.
  private mutating func call(_ ref: NameRef, _ args: [Expr], _ dst: Int32) throws {
    let g = try compiler.globalOperand(ref)
    let loc = ref.loc
    // `f(n - 1)`: the argument is computed by the call itself.
    if args.count == 1, case .binary(.arithmetic(.subtract), let a, .literal(.int(let k), _), let subLoc) = args[0],
      isSimple(a)
    {
      sites.append(BytecodeCallSite(global: g, argc: 1, calleeRegister: -1, k: k, subLoc: subLoc))
      emit(.callSubK, dst, Int32(sites.count - 1), try operand(a), loc)
      return
    }
    var calleeRegister: Int32 = -1
    if args.contains(where: containsCall) {
      calleeRegister = temp()
      globals.append(g)
      emit(.loadGlobal, calleeRegister, Int32(globals.count - 1), 0, loc)
    } else if !args.allSatisfy(isSimple) {
      sites.append(BytecodeCallSite(global: g, argc: 0, calleeRegister: -1, k: 0, subLoc: loc))
      emit(.needGlobal, 0, Int32(sites.count - 1), 0, loc)
    }
    let base = nextTemp
    for _ in args { _ = temp() }
    for (i, a) in args.enumerated() { try exprInto(a, Int32(base + i)) }
    sites.append(BytecodeCallSite(global: g, argc: args.count, calleeRegister: calleeRegister, k: 0, subLoc: loc))
    emit(.call, dst, Int32(sites.count - 1), Int32(base), loc)
  }
}

extension Compiler {
  /// The form of an arithmetic opcode that takes an int in the instruction.
  static func immediateForm(_ op: Opcode) -> Opcode? {
    switch op {
    case .add: return .addI
    case .sub: return .subI
    case .mul: return .mulI
    default: return nil
    }
  }
}
