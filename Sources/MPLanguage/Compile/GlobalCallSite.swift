/// Global call sites: a call of a name that is a global (`fib(n - 1)`)
/// caches the closure the global held, so a call costs no reference counting.

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
    cache[1] = ValueLayout.noTag
    builtinCache = .allocate(capacity: 2)
    builtinCache[0] = 0
    builtinCache[1] = ValueLayout.noTag
  }

  /// The cached closure if the global still holds it.
  @inline(__always)
  func cached() -> Unmanaged<Closure>? {
    let bits = ValueLayout.payload(slot)
    guard bits == cache[0], ValueLayout.tag(slot) == cache[1],
      let p = UnsafeRawPointer(bitPattern: bits)
    else { return nil }
    return Unmanaged<Closure>.fromOpaque(p)
  }

  /// The cached built-in if the global still holds it.
  @inline(__always)
  func cachedBuiltin() -> Unmanaged<Builtin>? {
    let bits = ValueLayout.payload(slot)
    guard bits == builtinCache[0], ValueLayout.tag(slot) == builtinCache[1],
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
    guard into[1] == ValueLayout.noTag else { return }
    let (bits, tag) = ValueLayout.bits(of: fv)
    guard bits == UInt(bitPattern: Unmanaged.passUnretained(object).toOpaque()), tag != ValueLayout.noTag else { return }
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
  /// A built-in's one-argument entry point, once the global was seen to
  /// hold that built-in (pinned by `site`), and the global's bits then:
  /// `len(s)` in a loop is called from here without going through `slow`.
  @exclusivity(unchecked) var builtinBits: UInt = 0
  @exclusivity(unchecked) var builtinTag: UInt = ValueLayout.noTag
  @exclusivity(unchecked) var f1: ((Value, Interpreter) throws -> Value)?
  /// That built-in is `len`: an ASCII string in a local is measured in place.
  @exclusivity(unchecked) var isLen = false
  let bits = StringBits.current
  let front = textFront

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
    let bits = ValueLayout.payload(slot)
    if bits == cache[0], ValueLayout.tag(slot) == cache[1] {
      // Not nil: the cache holds a closure's address once its tag is set.
      let p = UnsafeRawPointer(bitPattern: bits).unsafelyUnwrapped
      let x = try a0.get(fp)
      let base = vm.pointee.sp
      return try Unmanaged<Closure>.fromOpaque(p)._withUnsafeGuaranteedRef {
        try interp.enter1($0, x, base: base, loc: at)
      }
    }
    if bits == builtinBits, ValueLayout.tag(slot) == builtinTag, let f1 {
      if isLen, let p = a0.place(fp), let (bytes, n, isASCII) = self.bits.contiguous(p) {
        if isASCII { return .int(n) }
        if let ix = front.index(of: bytes, bytes: n) { return .int(ix._withUnsafeGuaranteedRef { $0.count }) }
      }
      let x = try a0.get(fp)
      do {
        return try f1(x, interp)
      } catch let e as MPError {
        throw e.located(at)
      }
    }
    return try slow(fp)
  }

  @inline(never)
  func slow(_ fp: Frame) throws -> Value {
    if let ub = site.cachedBuiltin() {
      let b = ub.takeUnretainedValue()
      if let f = b.fn1 {
        (builtinBits, builtinTag) = (site.builtinCache[0], site.builtinCache[1])
        f1 = f
        isLen = b.isLen
      }
      let x = try a0.get(fp)
      return try site.callBuiltin(b, x)
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
