import CMPShim

/// Calling functions: frames live on the value stack, arguments are pushed
/// where the callee's frame will start, so a call allocates nothing.
extension Interpreter {
  /// Runs closure `c` whose `argc` arguments are already initialised at
  /// `base` (with `vm.sp == base + argc`). Takes ownership of the arguments.
  ///
  /// Only the common case is inline: the exact number of arguments, no
  /// captured parameters, room on both stacks, no periodic check due.
  /// Everything else, and all error handling, is out of line so the call
  /// sites stay small.
  @inline(__always)
  func enter(_ c: Closure, base: Frame, argc: Int, loc: SourceLocation) throws -> Value {
    let p = c.proto
    let vm = self.vm
    let size = p.frameSize
    let depth = vm.pointee.depth
    // The native stack is measured every 16 levels: far more often than
    // 16 frames could use up the 1 MiB margin below the floor. The depth
    // limit is checked there too: it is a multiple of 16, and the depth
    // grows one level at a time, so it cannot be passed in between. The
    // call limit is the value stack's end unless a step limit or Ctrl-C
    // wants every call in `enterSlow`.
    guard argc == p.fastArity, UInt(bitPattern: base + size) <= vm.pointee.callLimit,
      depth & 15 != 0 || (depth < maxCallDepth && UInt(mp_stack_pointer()) >= vm.pointee.stackFloor)
    else {
      return try enterSlow(c, base: base, argc: argc, loc: loc)
    }
    // Element by element: the bulk forms call generic runtime functions.
    var i = argc
    while i < size {
      (base + i).initialize(to: .nil)
      i += 1
    }
    vm.pointee.sp = base + size
    vm.pointee.depth = depth &+ 1
    return try runBody(p, base, size: size, depth: depth, loc: loc)
  }

  /// `enter` for one argument not yet pushed: the check that the frame
  /// fits also covers the argument's slot (a closure entered this way has
  /// one parameter, so its frame has at least that slot).
  @inline(__always)
  func enter1(_ c: Closure, _ x: Value, base: Frame, loc: SourceLocation) throws -> Value {
    let p = c.proto
    let vm = self.vm
    let size = p.frameSize
    let depth = vm.pointee.depth
    guard p.fastArity == 1, UInt(bitPattern: base + size) <= vm.pointee.callLimit,
      depth & 15 != 0 || (depth < maxCallDepth && UInt(mp_stack_pointer()) >= vm.pointee.stackFloor)
    else {
      return try enter1Slow(c, x, base: base, loc: loc)
    }
    base.initialize(to: x)
    var i = 1
    while i < size {
      (base + i).initialize(to: .nil)
      i += 1
    }
    vm.pointee.sp = base + size
    vm.pointee.depth = depth &+ 1
    return try runBody(p, base, size: size, depth: depth, loc: loc)
  }

  @inline(never)
  func enter1Slow(_ c: Closure, _ x: Value, base: Frame, loc: SourceLocation) throws -> Value {
    try push(x, loc: loc)
    return try enterSlow(c, base: base, argc: 1, loc: loc)
  }

  /// Runs a prepared frame's body, then pops the frame, also on error.
  @inline(__always)
  func runBody(_ p: FunctionProto, _ base: Frame, size: Int, depth: Int, loc: SourceLocation) throws -> Value {
    let r: Value
    do {
      r = try p.run(base)
    } catch {
      leave(base, size: size, depth: depth)
      throw p.traced(error, calledAt: loc)
    }
    leave(base, size: size, depth: depth)
    return r
  }

  /// Releases a frame and pops it.
  @inline(__always)
  func leave(_ base: Frame, size: Int, depth: Int) {
    var j = 0
    while j < size {
      if !(base + j).pointee.isInline { (base + j).deinitialize(count: 1) }
      j += 1
    }
    vm.pointee.sp = base
    vm.pointee.depth = depth
  }

  /// `enter` for everything but the common case: the periodic check,
  /// recursion limits, default arguments, captured parameters.
  /// `missing`: parameters a keyword call left out (their slots hold nil
  /// and get their default values here).
  @inline(never)
  func enterSlow(_ c: Closure, base: Frame, argc: Int, loc: SourceLocation, missing: [Int] = []) throws -> Value {
    let p = c.proto
    let vm = self.vm
    // Every call is a tick (see VMState.callLimit); it is counted here,
    // where calls come while a step limit is set or Ctrl-C is pending.
    vm.pointee.ticks &-= 1
    if vm.pointee.ticks <= 0 || mp_interrupt_flag != 0 {
      do { try slowTick(loc) } catch {
        base.deinitialize(count: argc)
        vm.pointee.sp = base
        throw error
      }
    } else if vm.pointee.callLimit == 0 {
      // Ctrl-C was handled elsewhere (a wait saw it and cleared the flag).
      restoreCallLimit()
    }
    let n = try prepareSlowCall(c, base: base, argc: argc, loc: loc, missing: missing)
    let size = p.frameSize
    let depth = vm.pointee.depth
    if n < size { (base + n).initialize(repeating: .nil, count: size - n) }
    vm.pointee.sp = base + size
    vm.pointee.depth = depth + 1
    if p.hasCapturedParams {
      for s in p.capturedParams { base[s] = .object(Cell(base[s])) }
    }
    if p.selfSlot >= 0 { base[p.selfSlot] = .function(c) }
    return try runBody(p, base, size: size, depth: depth, loc: loc)
  }

  /// The slow cases of `enter`: missing arguments that have defaults (filled
  /// in; returns the new argument count), or an error after releasing the
  /// arguments.
  func prepareSlowCall(_ c: Closure, base: Frame, argc: Int, loc: SourceLocation, missing: [Int] = []) throws -> Int {
    let p = c.proto
    let vm = self.vm
    func fail(_ e: MPError) throws -> Never {
      base.deinitialize(count: argc)
      vm.pointee.sp = base
      throw e
    }
    if vm.pointee.depth >= maxCallDepth || UInt(mp_stack_pointer()) < vm.pointee.stackFloor
      || base + max(p.frameSize, argc) > vm.pointee.stackEnd
    {
      let depth = vm.pointee.depth
      try fail(MPError(.recursion, "recursion depth exceeded (\(depth > 0 ? "\(depth) nested calls, " : "")in '\(p.name)')", at: loc))
    }
    if argc > p.nparams || argc < p.nrequired {
      let expected: String
      if p.nrequired == p.nparams {
        expected = "\(p.nparams) argument\(p.nparams == 1 ? "" : "s")"
      } else if argc > p.nparams {
        expected = "at most \(p.nparams) argument\(p.nparams == 1 ? "" : "s")"
      } else {
        expected = "at least \(p.nrequired) argument\(p.nrequired == 1 ? "" : "s")"
      }
      try fail(MPError(.type, "\(p.name)() takes \(expected), got \(argc)", at: loc))
    }
    // Defaults run in the callee's frame, so a default can use earlier
    // parameters, and a fresh `[]` is made at every call (unlike Python).
    (base + argc).initialize(repeating: .nil, count: p.nparams - argc)
    vm.pointee.sp = base + p.nparams
    do {
      for i in argc..<p.nparams {
        if let d = p.defaults[i] { base[i] = try d(base) }
      }
      for i in missing {
        if let d = p.defaults[i] { base[i] = try d(base) }
      }
    } catch var e as MPError {
      base.deinitialize(count: p.nparams)
      vm.pointee.sp = base
      // A failing default value is an error in the call: show where.
      var at = e.pendingLoc ?? p.loc
      if at.line == 0 { at = p.loc }
      e.addTrace(.init(function: p.name, loc: at))
      e.pendingLoc = loc
      throw e
    }
    return p.nparams
  }

  /// Pushes one value on the value stack (arguments for a call).
  @inline(__always)
  func push(_ v: Value, loc: SourceLocation) throws {
    let sp = vm.pointee.sp
    guard sp < vm.pointee.stackEnd else {
      throw MPError(.recursion, "recursion depth exceeded (value stack full)", at: loc)
    }
    sp.initialize(to: v)
    vm.pointee.sp = sp + 1
  }

  /// Calls any callable value with arguments from Swift: built-ins use this
  /// to call back into mp (sorted's key, a pool's function, spawn's target).
  public func call(_ f: Value, _ args: [Value], at loc: SourceLocation? = nil) throws -> Value {
    let where_ = loc ?? noLoc
    switch f {
    case .function(let c):
      let base = try pushEach(args, loc: where_) { $0 }
      return try enter(c, base: base, argc: args.count, loc: where_)
    case .builtin(let b):
      return try callBuiltin(b, args, loc: where_)
    case .object(let o):
      if let r = try o.call(args, self) { return r }
      throw MPError(.type, "cannot call a \(o.typeName) (it is not a function)", at: loc)
    default:
      throw MPError(.type, "cannot call a value of type \(f.typeName) (it is not a function)", at: loc)
    }
  }

  /// `f(x)` from Swift without building an argument array (pool workers
  /// call this once per item).
  public func call1(_ f: Value, _ x: Value) throws -> Value {
    if case .function(let c) = f {
      let base = vm.pointee.sp
      try push(x, loc: noLoc)
      return try enter(c, base: base, argc: 1, loc: noLoc)
    }
    return try call(f, [x])
  }

  @inline(__always)
  func callBuiltin(_ b: Builtin, _ args: [Value], loc: SourceLocation) throws -> Value {
    if args.count < b.minArgs || (b.maxArgs >= 0 && args.count > b.maxArgs) {
      throw MPError(.type, "\(b.name)() takes \(Interpreter.arityText(b.minArgs, b.maxArgs)), got \(args.count)", at: loc)
    }
    callSite = loc
    do {
      return try b.fn(args, self)
    } catch let e as MPError {
      throw e.located(loc)
    }
  }

  static func arityText(_ lo: Int, _ hi: Int) -> String {
    func n(_ k: Int) -> String { "\(k) argument\(k == 1 ? "" : "s")" }
    if lo == hi { return n(lo) }
    if hi < 0 { return "at least \(n(lo))" }
    if lo == 0 { return "at most \(n(hi))" }
    return "\(lo) to \(hi) arguments"
  }
}

extension Interpreter {
  /// Evaluates and pushes call arguments where the callee's frame will
  /// start; if one fails, the ones already pushed are released.
  func pushArguments(_ argCodes: [ExprBox], _ fp: Frame, loc: SourceLocation) throws -> Frame {
    try pushEach(argCodes, loc: loc) { try $0.run(fp) }
  }

  /// Pushes `value(x)` for each x; returns where they start. If one fails,
  /// those already pushed are released.
  @inline(__always)
  func pushEach<T>(_ xs: [T], loc: SourceLocation, _ value: (T) throws -> Value) throws -> Frame {
    let base = vm.pointee.sp
    var n = 0
    do {
      for x in xs {
        let v = try value(x)
        try push(v, loc: loc)
        n += 1
      }
    } catch {
      base.deinitialize(count: n)
      vm.pointee.sp = base
      throw error
    }
    return base
  }

  /// Pushes an argument; on failure releases the `count` already pushed at `base`.
  @inline(__always)
  func pushOrRelease(_ v: Value, base: Frame, count: Int, loc: SourceLocation) throws {
    do {
      try push(v, loc: loc)
    } catch {
      base.deinitialize(count: count)
      vm.pointee.sp = base
      throw error
    }
  }

  /// Calls anything that is not an mp closure (built-ins, callable
  /// objects); `callee` names the variable called, for the error when it
  /// holds no function.
  func callValue(_ f: Value, _ args: [Value], _ loc: SourceLocation, callee: CalleeName? = nil) throws -> Value {
    switch f {
    case .builtin(let b): return try callBuiltin(b, args, loc: loc)
    case .function, .object: return try call(f, args, at: loc)
    default:
      if let callee { throw notCallable(f, callee, loc) }
      return try call(f, args, at: loc)
    }
  }
}
