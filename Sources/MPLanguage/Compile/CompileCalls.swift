/// Calls and loops over iterables.
extension Compiler {
  mutating func compileCall(_ callee: Expr, _ args: [Expr], _ loc: SourceLocation) throws -> ExprCode {
    if case .member(let obj, let name, let mloc) = callee {
      return try compileMethodCall(obj, name, args, mloc)
    }
    if case .name(let ref) = callee, MemoryLayout<Value>.size == 9 {
      switch ref.binding {
      case .global, .unresolved: return try compileGlobalCall(ref, args)
      default: break
      }
    }
    let f = try compileExpr(callee)
    let argCodes = try args.map { ExprBox(run: try compileExpr($0)) }
    let interp = self.interp, vm = self.vm
    // Point at the name being called; for `f()()` or `xs[0]()`, at this call's '('.
    var at = loc
    let name = calleeName(callee)
    if case .name = callee { at = callee.loc }
    if case .member = callee { at = callee.loc }
    switch argCodes.count {
    case 0:
      return { fp in
        let fv = try f(fp)
        if case .function(let c) = fv { return try interp.enter(c, base: vm.pointee.sp, argc: 0, loc: at) }
        return try interp.callValue(fv, [], at, callee: name)
      }
    case 1:
      let a0 = argCodes[0].run
      return { fp in
        let fv = try f(fp)
        let x = try a0(fp)
        if case .function(let c) = fv {
          let base = vm.pointee.sp
          try interp.push(x, loc: at)
          return try interp.enter(c, base: base, argc: 1, loc: at)
        }
        return try interp.callValue(fv, [x], at, callee: name)
      }
    case 2:
      let a0 = argCodes[0].run, a1 = argCodes[1].run
      return { fp in
        let fv = try f(fp)
        if case .function(let c) = fv {
          let base = vm.pointee.sp
          try interp.push(try a0(fp), loc: at)
          let y: Value
          do { y = try a1(fp) } catch {
            base.deinitialize(count: 1)
            vm.pointee.sp = base
            throw error
          }
          try interp.pushOrRelease(y, base: base, count: 1, loc: at)
          return try interp.enter(c, base: base, argc: 2, loc: at)
        }
        let x = try a0(fp)
        return try interp.callValue(fv, [x, try a1(fp)], at, callee: name)
      }
    default:
      return { fp in
        let fv = try f(fp)
        if case .function(let c) = fv {
          let base = try interp.pushArguments(argCodes, fp, loc: at)
          return try interp.enter(c, base: base, argc: argCodes.count, loc: at)
        }
        var vals: [Value] = []
        vals.reserveCapacity(argCodes.count)
        for a in argCodes { vals.append(try a.run(fp)) }
        return try interp.callValue(fv, vals, at, callee: name)
      }
    }
  }

  /// The called variable's name and where it lives, when a name is called.
  func calleeName(_ callee: Expr) -> CalleeName? {
    guard case .name(let ref) = callee else { return nil }
    switch ref.binding {
    case .local: return CalleeName(name: ref.name, scope: "local")
    case .upvalue: return CalleeName(name: ref.name, scope: "captured")
    case .global, .unresolved: return CalleeName(name: ref.name, scope: "global")
    }
  }

  /// A call of a global function, the common case (`fib(n - 1)`). While
  /// the global still holds the closure this call site saw first, the
  /// closure is called straight from the cache, which keeps it alive: no
  /// copy out of the global, so no reference counting on the call.
  mutating func compileGlobalCall(_ ref: NameRef, _ args: [Expr]) throws -> ExprCode {
    let site = GlobalCallSite(try globalOperand(ref), interp, ref.loc)
    if args.count == 1 {
      return try withOperand(args[0], GlobalCall1(site: site)).run
    }
    let argCodes = try args.map { ExprBox(run: try compileExpr($0)) }
    let n = argCodes.count
    return { fp in
      if let c = site.cached() {
        let base = try site.pushAll(argCodes, fp)
        return try c._withUnsafeGuaranteedRef { try site.interp.enter($0, base: base, argc: n, loc: site.at) }
      }
      return try site.callUncached(argCodes, fp)
    }
  }

  mutating func compileMethodCall(_ obj: Expr, _ name: String, _ args: [Expr], _ loc: SourceLocation) throws -> ExprCode {
    let oc = try compileExpr(obj)
    let argCodes = try args.map { ExprBox(run: try compileExpr($0)) }
    let interp = self.interp
    if argCodes.count == 1 && (name == "push" || name == "append") {
      let a0 = argCodes[0].run
      return { fp in
        let o = try oc(fp)
        let x = try a0(fp)
        if case .list(let l) = o {
          l.items.append(x)
          return .nil
        }
        return try interp.callMethod(o, name, [x], loc)
      }
    }
    // Few arguments: the array is built as a literal (none for no
    // arguments), not grown element by element.
    switch argCodes.count {
    case 0:
      return { fp in try interp.callMethod(try oc(fp), name, [], loc) }
    case 1:
      let a0 = argCodes[0].run
      return { fp in
        let o = try oc(fp)
        return try interp.callMethod(o, name, [try a0(fp)], loc)
      }
    case 2:
      let a0 = argCodes[0].run, a1 = argCodes[1].run
      return { fp in
        let o = try oc(fp)
        let x = try a0(fp)
        return try interp.callMethod(o, name, [x, try a1(fp)], loc)
      }
    default:
      return { fp in
        let o = try oc(fp)
        var vals: [Value] = []
        vals.reserveCapacity(argCodes.count)
        for a in argCodes { vals.append(try a.run(fp)) }
        return try interp.callMethod(o, name, vals, loc)
      }
    }
  }

  /// A call with keyword arguments (`join(p, timeout=1)`, `q.get(timeout=1)`):
  /// rare enough to go through one general path (Eval/KeywordCalls.swift).
  mutating func compileKeywordCall(_ callee: Expr, _ args: [Expr], _ keywords: [KeywordArg], _ loc: SourceLocation) throws -> ExprCode {
    let argCodes = try args.map { ExprBox(run: try compileExpr($0)) }
    let kwCodes = try keywords.map { ExprBox(run: try compileExpr($0.value)) }
    let names = keywords.map(\.name)
    let interp = self.interp
    func values(_ fp: Frame) throws -> ([Value], [Value]) {
      var a: [Value] = [], k: [Value] = []
      a.reserveCapacity(argCodes.count)
      k.reserveCapacity(kwCodes.count)
      for c in argCodes { a.append(try c.run(fp)) }
      for c in kwCodes { k.append(try c.run(fp)) }
      return (a, k)
    }
    if case .member(let obj, let name, let mloc) = callee {
      let oc = try compileExpr(obj)
      return { fp in
        let o = try oc(fp)
        let (a, k) = try values(fp)
        return try interp.callMethodKeywords(o, name, a, names, k, mloc)
      }
    }
    let f = try compileExpr(callee)
    var at = loc
    if case .name = callee { at = callee.loc }
    let name = calleeName(callee)
    return { fp in
      let fv = try f(fp)
      let (a, k) = try values(fp)
      return try interp.callKeywords(fv, a, names, k, at, callee: name)
    }
  }

  /// How a loop or comprehension binds each item to its names.
  func patternBinder(_ pattern: Pattern, _ loc: SourceLocation) throws -> (Frame, Value) throws -> Void {
    switch pattern {
    case .single(let d):
      let store = try storeDecl(d)
      return { fp, v in store(fp, v) }
    case .unpack(let decls):
      let stores = try decls.map { try storeDecl($0) }
      let n = decls.count
      return { fp, v in
        let items = try unpackList(v, count: n, loc)
        for (i, s) in stores.enumerated() { s(fp, items[i]) }
      }
    }
  }

  /// `[element for names in iterable if condition]`: a new list.
  mutating func compileComprehension(_ c: Comprehension) throws -> ExprCode {
    let it = try compileExpr(c.iterable)
    let bind = try patternBinder(c.pattern, c.loc)
    for d in c.pattern.decls { localNames.append(d.name) }
    let el = try compileExpr(c.element)
    let cond = try c.condition.map { try compileCond($0) }
    let vm = self.vm, interp = self.interp, loc = c.loc
    return { fp in
      var out: [Value] = []
      let items: [Value]
      do { items = try interp.iterate(try it(fp)) } catch let e as MPError { throw e.located(loc) }
      out.reserveCapacity(items.count)
      for x in items {
        try bind(fp, x)
        if let cond, !(try cond(fp)) { continue }
        out.append(try el(fp))
        vm.pointee.ticks &-= 1
        if vm.pointee.ticks <= 0 { try interp.slowTick(loc) }
      }
      return .list(ListRef(out))
    }
  }

  mutating func compileFor(_ pattern: Pattern, _ iter: Expr, _ body: [Stmt], _ loc: SourceLocation) throws -> StmtCode {
    let it = try compileExpr(iter)
    let bind = try patternBinder(pattern, loc)
    for d in pattern.decls { localNames.append(d.name) }
    loopDepth += 1
    let b = try compileBlock(body)
    loopDepth -= 1
    let vm = self.vm, interp = self.interp
    return { fp in
      // nil: keep looping; otherwise the loop ends with this flow.
      @inline(__always) func step(_ x: Value) throws -> Flow? {
        try bind(fp, x)
        switch try b(fp) {
        case .next, .continueLoop: break
        case .breakLoop: return .next
        case .returned: return .returned
        }
        vm.pointee.ticks &-= 1
        if vm.pointee.ticks <= 0 { try interp.slowTick(loc) }
        return nil
      }
      let v = try it(fp)
      switch v {
      case .list(let l):
        var i = 0
        while i < l.items.count {
          if let f = try step(l.items[i]) { return f }
          i += 1
        }
      case .str(let s):
        for ch in stringChars(s) {
          if let f = try step(ch) { return f }
        }
      case .map(let m):
        for k in m.keys {
          if let f = try step(k.value) { return f }
        }
      case .object(let o):
        if let r = o as? RangeObject {
          var i = r.start
          while r.step > 0 ? i < r.stop : i > r.stop {
            if let f = try step(.int(i)) { return f }
            let (n, o) = i.addingReportingOverflow(r.step)
            if o { break }
            i = n
          }
        } else if let next = try o.makeIterator(interp) {
          while let x = try next() {
            if let f = try step(x) { return f }
          }
        } else {
          throw MPError("type", "cannot iterate over a \(o.typeName)", at: loc)
        }
      default:
        throw MPError("type", "cannot iterate over a value of type \(v.typeName) (expected a list, string, map, range or queue)", at: loc)
      }
      return .next
    }
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

/// What a global call site keeps: the global's place, and a one-entry
/// cache of the closure it held (pinned, so calling it needs no reference
/// counting).
final class GlobalCallSite {
  let global: GlobalOperand
  let slot: UnsafeRawPointer
  /// unowned(unsafe): the interpreter outlives its compiled code, and a
  /// checked unowned reference would count references on every call.
  unowned(unsafe) let interp: Interpreter
  let vm: UnsafeMutablePointer<VMState>
  let at: SourceLocation
  /// The cached closure's address and the tag byte of `.function`; the
  /// tag starts as 0xFF, which no value has, so an empty cache never hits.
  /// (Every global slot in use holds a value, so its bits can be read
  /// before knowing whether it is defined.)
  let cache: UnsafeMutablePointer<UInt>
  /// The same for a built-in the global held (`len`, `abs`, ...).
  let builtinCache: UnsafeMutablePointer<UInt>

  init(_ g: GlobalOperand, _ interp: Interpreter, _ at: SourceLocation) {
    global = g
    slot = UnsafeRawPointer(g.values + g.index)
    self.interp = interp
    vm = interp.vm
    self.at = at
    cache = .allocate(capacity: 2)
    cache[0] = 0
    cache[1] = 0xFF
    builtinCache = .allocate(capacity: 2)
    builtinCache[0] = 0
    builtinCache[1] = 0xFF
  }

  /// The cached closure if the global still holds it.
  @inline(__always)
  func cached() -> Unmanaged<Closure>? {
    let bits = slot.load(as: UInt.self)
    guard bits == cache[0], UInt(slot.load(fromByteOffset: 8, as: UInt8.self)) == cache[1],
      let p = UnsafeRawPointer(bitPattern: bits)
    else { return nil }
    return Unmanaged<Closure>.fromOpaque(p)
  }

  /// The cached built-in if the global still holds it.
  @inline(__always)
  func cachedBuiltin() -> Unmanaged<Builtin>? {
    let bits = slot.load(as: UInt.self)
    guard bits == builtinCache[0], UInt(slot.load(fromByteOffset: 8, as: UInt8.self)) == builtinCache[1],
      let p = UnsafeRawPointer(bitPattern: bits)
    else { return nil }
    return Unmanaged<Builtin>.fromOpaque(p)
  }

  /// Remembers the first closure (and the first built-in) found in the
  /// global, pinned for the life of this code.
  func remember(_ fv: Value) {
    let into: UnsafeMutablePointer<UInt>
    let object: AnyObject
    switch fv {
    case .function(let c): (into, object) = (cache, c)
    case .builtin(let b): (into, object) = (builtinCache, b)
    default: return
    }
    guard into[1] == 0xFF else { return }
    var probe = fv
    let (bits, tag) = withUnsafeBytes(of: &probe) { ($0.load(as: UInt.self), UInt($0[8])) }
    guard bits == UInt(bitPattern: Unmanaged.passUnretained(object).toOpaque()), tag != 0xFF else { return }
    _ = Unmanaged.passRetained(object)
    into[0] = bits
    into[1] = tag
  }

  /// Calls a built-in with `x`, through its one-argument form if it has one.
  @inline(__always)
  func callBuiltin(_ b: Builtin, _ x: Value) throws -> Value {
    guard let f1 = b.fn1 else { return try interp.callBuiltin(b, [x], loc: at) }
    do {
      return try f1(x, interp)
    } catch let e as MPError {
      throw e.located(at)
    }
  }

  func pushAll(_ argCodes: [ExprBox], _ fp: Frame) throws -> Frame {
    try interp.pushArguments(argCodes, fp, loc: at)
  }

  /// The call when the cache misses: first call, the global was
  /// reassigned, or it holds something other than a closure.
  @inline(never)
  func callUncached(_ argCodes: [ExprBox], _ fp: Frame) throws -> Value {
    if let ub = cachedBuiltin() {
      let b = ub.takeUnretainedValue()
      if argCodes.count == 2, let f2 = b.fn2 {
        let x = try argCodes[0].run(fp), y = try argCodes[1].run(fp)
        do {
          return try f2(x, y, interp)
        } catch let e as MPError {
          throw e.located(at)
        }
      }
      var vals: [Value] = []
      vals.reserveCapacity(argCodes.count)
      for a in argCodes { vals.append(try a.run(fp)) }
      return try interp.callBuiltin(b, vals, loc: at)
    }
    let fv = try global.get(fp)
    remember(fv)
    if case .function(let c) = fv {
      let base = try pushAll(argCodes, fp)
      return try interp.enter(c, base: base, argc: argCodes.count, loc: at)
    }
    var vals: [Value] = []
    vals.reserveCapacity(argCodes.count)
    for a in argCodes { vals.append(try a.run(fp)) }
    return try interp.callValue(fv, vals, at, callee: CalleeName(name: global.info.name, scope: "global"))
  }

  @inline(never)
  func stackFull() -> MPError {
    MPError("recursion", "recursion depth exceeded (value stack full)", at: at)
  }
}

/// A one-argument call of a global function, the argument read from an
/// operand of a known type (`fib(n - 1)` computes `n - 1` in place).
struct GlobalCall1: OperandConsumer {
  let site: GlobalCallSite

  func make<A: Operand>(_ a0: A) -> ExprBox {
    // One captured reference: the closure's context is unpacked on every call.
    let node = GlobalCall1Node(site, a0)
    return ExprBox { fp in try node.run(fp) }
  }
}

final class GlobalCall1Node<A: Operand> {
  let slot: UnsafeRawPointer
  let cache: UnsafeMutablePointer<UInt>
  let vm: UnsafeMutablePointer<VMState>
  /// Strong: an unowned(unsafe) one would be retained around every call
  /// made through it. (Compiled code lives as long as the process.)
  let interp: Interpreter
  let at: SourceLocation
  let a0: A
  let site: GlobalCallSite

  init(_ site: GlobalCallSite, _ a0: A) {
    slot = site.slot
    cache = site.cache
    vm = site.vm
    interp = site.interp
    at = site.at
    self.a0 = a0
    self.site = site
  }

  @inline(__always)
  func run(_ fp: Frame) throws -> Value {
    let bits = slot.load(as: UInt.self)
    if bits == cache[0], UInt(slot.load(fromByteOffset: 8, as: UInt8.self)) == cache[1],
      let p = UnsafeRawPointer(bitPattern: bits)
    {
      let x = try a0.get(fp)
      let base = vm.pointee.sp
      if base >= vm.pointee.stackEnd { throw site.stackFull() }
      base.initialize(to: x)
      vm.pointee.sp = base + 1
      return try Unmanaged<Closure>.fromOpaque(p)._withUnsafeGuaranteedRef {
        try interp.enter($0, base: base, argc: 1, loc: at)
      }
    }
    return try slow(fp)
  }

  @inline(never)
  func slow(_ fp: Frame) throws -> Value {
    if let b = site.cachedBuiltin() {
      let x = try a0.get(fp)
      return try b._withUnsafeGuaranteedRef { try site.callBuiltin($0, x) }
    }
    let fv = try site.global.get(fp)
    site.remember(fv)
    let x = try a0.get(fp)
    if case .function(let c) = fv {
      let base = vm.pointee.sp
      try interp.push(x, loc: at)
      return try interp.enter(c, base: base, argc: 1, loc: at)
    }
    if case .builtin(let b) = fv { return try site.callBuiltin(b, x) }
    return try interp.callValue(fv, [x], at, callee: CalleeName(name: site.global.info.name, scope: "global"))
  }
}
