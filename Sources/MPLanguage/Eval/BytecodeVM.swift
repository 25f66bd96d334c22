import CMPShim

/// Running bytecode (Values/Bytecode.swift). A call from bytecode to a
/// function that has bytecode too pushes a `BytecodeReturn` and goes on in
/// the same loop: recursion costs no native stack and no closure calls.
/// Every check of the closure path is kept: the call limit (Ctrl-C, step
/// limits), the depth limit, the value stack's end, and an error's mp call
/// stack gets one entry per bytecode frame it passes.

/// Register `o` of the frame.
@inline(__always)
private func at(_ fp: Frame, _ o: Int32) -> UnsafeMutablePointer<Value> {
  fp + Int(o)
}

/// Fills a new frame's slots after its `argc` arguments: nil for locals
/// and temporaries up to `first`, then the `n` constants at `k`.
@inline(__always)
private func fill(_ base: Frame, from argc: Int, _ first: Int, _ k: UnsafeMutablePointer<Value>, _ n: Int) {
  var i = argc
  while i < first {
    (base + i).initialize(to: .nil)
    i &+= 1
  }
  var j = 0
  let into = base + first
  while j < n {
    (into + j).initialize(to: copy(k + j))
    j &+= 1
  }
}

@inline(__always)
private func arith<O: BinaryOp>(_: O.Type, _ x: UnsafeMutablePointer<Value>, _ y: UnsafeMutablePointer<Value>,
                                _ loc: @autoclosure () -> UnsafeMutablePointer<SourceLocation>) throws -> Value {
  if case .int(let a) = x.pointee, case .int(let b) = y.pointee, let v = O.ints(a, b) { return v }
  return try O.apply(x.pointee, y.pointee, loc().pointee)
}

@inline(__always)
private func compare<O: CompareOp>(_: O.Type, _ x: UnsafeMutablePointer<Value>, _ y: UnsafeMutablePointer<Value>,
                                   _ loc: @autoclosure () -> UnsafeMutablePointer<SourceLocation>) throws -> Bool {
  if case .int(let a) = x.pointee, case .int(let b) = y.pointee { return O.ints(a, b) }
  return try O.test(x.pointee, y.pointee, loc().pointee)
}

@inline(__always)
private func arithI<O: BinaryOp>(_: O.Type, _ x: UnsafeMutablePointer<Value>, _ y: Int32,
                                 _ loc: @autoclosure () -> UnsafeMutablePointer<SourceLocation>) throws -> Value {
  if case .int(let a) = x.pointee, let v = O.ints(a, Int(y)) { return v }
  return try O.apply(x.pointee, .int(Int(y)), loc().pointee)
}

@inline(__always)
private func compareI<O: CompareOp>(_: O.Type, _ x: UnsafeMutablePointer<Value>, _ y: Int32,
                                    _ loc: @autoclosure () -> UnsafeMutablePointer<SourceLocation>) throws -> Bool {
  if case .int(let a) = x.pointee { return O.ints(a, Int(y)) }
  return try O.test(x.pointee, .int(Int(y)), loc().pointee)
}

/// Returns `r` from a bytecode call made by bytecode: releases and pops
/// the callee's frame and resumes the caller, `r` in its register.
@inline(__always)
private func popFrame(_ vm: UnsafeMutablePointer<VMState>, _ bc: inout Unmanaged<Bytecode>, _ fp: inout Frame,
                      _ ip: inout UnsafeMutablePointer<Instr>, _ r: Value) {
  let top = vm.pointee.returnTop &- 1
  let back = vm.pointee.returns[top]
  vm.pointee.returnTop = top
  let size = vm.pointee.sp - fp
  var j = 0
  while j < size {
    if !(fp + j).pointee.isInline { (fp + j).deinitialize(count: 1) }
    j &+= 1
  }
  vm.pointee.sp = fp
  vm.pointee.depth &-= 1
  bc = back.callerCode
  fp = back.callerFP
  ip = back.callerIP
  put(fp + back.dst, r)
}

/// Stores `v` at `p` without the outlined release of the old value when
/// that one holds no reference (the common case: an int over an int).
@inline(__always)
private func put(_ p: UnsafeMutablePointer<Value>, _ v: Value) {
  if p.pointee.isInline { p.initialize(to: v) } else { p.pointee = v }
}

/// A copy of the value at `p`; an inline one is rebuilt, without the
/// outlined copy a generic `Value` copy calls.
@inline(__always)
private func copy(_ p: UnsafeMutablePointer<Value>) -> Value {
  switch p.pointee {
  case .int(let i): return .int(i)
  case .nil: return .nil
  case .bool(let b): return .bool(b)
  case .float(let d): return .float(d)
  default: return p.pointee
  }
}

extension Interpreter {
  /// Runs `entry` in the frame at `fp0`, which `enter` prepared and will
  /// pop; returns the function's result.
  func runBytecode(_ entry: Bytecode, _ fp0: Frame) throws -> Value {
    let vm = self.vm
    let bottom = vm.pointee.returnTop
    let intTag = ValueLayout.intTag
    var bc = Unmanaged.passUnretained(entry)
    var fp = fp0
    var ip = entry.code
    // `enter` filled the frame with nil: the constants go in their registers.
    var c0 = 0
    while c0 < entry.constantCount {
      (fp0 + entry.firstConstant + c0).pointee = copy(entry.constants + c0)
      c0 &+= 1
    }
    /// The current instruction's place, for errors.
    @inline(__always) func loc(_ ip: UnsafeMutablePointer<Instr>, _ bc: Unmanaged<Bytecode>) -> UnsafeMutablePointer<SourceLocation> {
      bc._withUnsafeGuaranteedRef { $0.locs + (ip - $0.code) }
    }
    do {
      while true {
        let ins = ip.pointee
        switch ins.op {
        case .move:
          fp[Int(ins.a)] = at(fp, ins.b).pointee
        case .loadGlobal:
          let g = bc._withUnsafeGuaranteedRef { $0.globals } + Int(ins.b)
          guard g.pointee.defined[g.pointee.index] else { throw g.pointee.info.undefined() }
          fp[Int(ins.a)] = g.pointee.values[g.pointee.index]
        case .add:
          put(fp + Int(ins.a), try arith(AddOp.self, at(fp, ins.b), at(fp, ins.c), loc(ip, bc)))
        case .sub:
          put(fp + Int(ins.a), try arith(SubOp.self, at(fp, ins.b), at(fp, ins.c), loc(ip, bc)))
        case .mul:
          put(fp + Int(ins.a), try arith(MulOp.self, at(fp, ins.b), at(fp, ins.c), loc(ip, bc)))
        case .div:
          fp[Int(ins.a)] = try arith(DivOp.self, at(fp, ins.b), at(fp, ins.c), loc(ip, bc))
        case .floorDiv:
          fp[Int(ins.a)] = try arith(FloorDivOp.self, at(fp, ins.b), at(fp, ins.c), loc(ip, bc))
        case .mod:
          put(fp + Int(ins.a), try arith(ModOp.self, at(fp, ins.b), at(fp, ins.c), loc(ip, bc)))
        case .lt:
          put(fp + Int(ins.a), .bool(try compare(LtOp.self, at(fp, ins.b), at(fp, ins.c), loc(ip, bc))))
        case .le:
          put(fp + Int(ins.a), .bool(try compare(LeOp.self, at(fp, ins.b), at(fp, ins.c), loc(ip, bc))))
        case .gt:
          put(fp + Int(ins.a), .bool(try compare(GtOp.self, at(fp, ins.b), at(fp, ins.c), loc(ip, bc))))
        case .ge:
          put(fp + Int(ins.a), .bool(try compare(GeOp.self, at(fp, ins.b), at(fp, ins.c), loc(ip, bc))))
        case .eq:
          put(fp + Int(ins.a), .bool(try compare(EqOp.self, at(fp, ins.b), at(fp, ins.c), loc(ip, bc))))
        case .ne:
          put(fp + Int(ins.a), .bool(try compare(NeOp.self, at(fp, ins.b), at(fp, ins.c), loc(ip, bc))))
        case .not:
          put(fp + Int(ins.a), .bool(!at(fp, ins.b).pointee.isTruthy))
        case .neg:
          fp[Int(ins.a)] = try negate(at(fp, ins.b).pointee, loc(ip, bc).pointee)
        case .jumpUnlessLt:
          if !(try compare(LtOp.self, at(fp, ins.b), at(fp, ins.c), loc(ip, bc))) { ip += Int(ins.a); continue }
        case .jumpUnlessLe:
          if !(try compare(LeOp.self, at(fp, ins.b), at(fp, ins.c), loc(ip, bc))) { ip += Int(ins.a); continue }
        case .jumpUnlessGt:
          if !(try compare(GtOp.self, at(fp, ins.b), at(fp, ins.c), loc(ip, bc))) { ip += Int(ins.a); continue }
        case .jumpUnlessGe:
          if !(try compare(GeOp.self, at(fp, ins.b), at(fp, ins.c), loc(ip, bc))) { ip += Int(ins.a); continue }
        case .jumpUnlessEq:
          if !(try compare(EqOp.self, at(fp, ins.b), at(fp, ins.c), loc(ip, bc))) { ip += Int(ins.a); continue }
        case .jumpUnlessNe:
          if !(try compare(NeOp.self, at(fp, ins.b), at(fp, ins.c), loc(ip, bc))) { ip += Int(ins.a); continue }
        case .addI:
          put(fp + Int(ins.a), try arithI(AddOp.self, at(fp, ins.b), ins.c, loc(ip, bc)))
        case .subI:
          put(fp + Int(ins.a), try arithI(SubOp.self, at(fp, ins.b), ins.c, loc(ip, bc)))
        case .mulI:
          put(fp + Int(ins.a), try arithI(MulOp.self, at(fp, ins.b), ins.c, loc(ip, bc)))
        case .jumpUnlessLtI:
          if !(try compareI(LtOp.self, at(fp, ins.b), ins.c, loc(ip, bc))) { ip += Int(ins.a); continue }
        case .jumpUnlessLeI:
          if !(try compareI(LeOp.self, at(fp, ins.b), ins.c, loc(ip, bc))) { ip += Int(ins.a); continue }
        case .jumpUnlessGtI:
          if !(try compareI(GtOp.self, at(fp, ins.b), ins.c, loc(ip, bc))) { ip += Int(ins.a); continue }
        case .jumpUnlessGeI:
          if !(try compareI(GeOp.self, at(fp, ins.b), ins.c, loc(ip, bc))) { ip += Int(ins.a); continue }
        case .jumpUnlessEqI:
          if !(try compareI(EqOp.self, at(fp, ins.b), ins.c, loc(ip, bc))) { ip += Int(ins.a); continue }
        case .jumpUnlessNeI:
          if !(try compareI(NeOp.self, at(fp, ins.b), ins.c, loc(ip, bc))) { ip += Int(ins.a); continue }
        case .jumpIfFalse:
          if !at(fp, ins.b).pointee.isTruthy { ip += Int(ins.a); continue }
        case .jumpIfTrue:
          if at(fp, ins.b).pointee.isTruthy { ip += Int(ins.a); continue }
        case .jump:
          ip += Int(ins.a)
          continue
        case .loop:
          vm.pointee.ticks &-= 1
          if vm.pointee.ticks <= 0 { try slowTick(loc(ip, bc).pointee) }
          ip += Int(ins.a)
          continue
        case .needGlobal:
          let site = bc._withUnsafeGuaranteedRef { $0.sites } + Int(ins.b)
          guard site.pointee.global.defined[site.pointee.global.index] else { throw site.pointee.global.info.undefined() }
        case .call, .callSubK:
          let site = bc._withUnsafeGuaranteedRef { $0.sites } + Int(ins.b)
          let callee: UnsafeMutablePointer<Value>
          if site.pointee.calleeRegister >= 0 {
            callee = fp + Int(site.pointee.calleeRegister)
          } else {
            callee = site.pointee.global.values + site.pointee.global.index
          }
          let base = vm.pointee.sp
          let size = site.pointee.cacheSize
          let depth = vm.pointee.depth
          // A global in use always holds a value: its bits can be compared
          // before knowing whether it is defined; the cache only ever holds
          // a defined one's.
          if ValueLayout.payload(callee) == site.pointee.cacheBits, ValueLayout.tag(callee) == site.pointee.cacheTag,
            UInt(bitPattern: base + size) <= vm.pointee.callLimit,
            depth & 15 != 0 || (depth < maxCallDepth && UInt(mp_stack_pointer()) >= vm.pointee.stackFloor)
          {
            let code = site.pointee.cacheCode.unsafelyUnwrapped
            let argc = site.pointee.argc
            if ins.op == .callSubK {
              // `f(n - k)`: the argument is made in its slot.
              let a = at(fp, ins.c)
              if case .int(let i) = a.pointee, case (let r, false) = i.subtractingReportingOverflow(site.pointee.k) {
                ValueLayout.initializeInt(base, r, tag: intTag)
              } else {
                base.initialize(to: try SubOp.apply(a.pointee, .int(site.pointee.k), site.pointee.subLoc))
              }
            } else {
              var i = 0
              let args = fp + Int(ins.c)
              while i < argc {
                (base + i).initialize(to: copy(args + i))
                i &+= 1
              }
            }
            fill(base, from: argc, site.pointee.cacheFirstConstant, site.pointee.cacheConstants.unsafelyUnwrapped,
                 site.pointee.cacheConstantCount)
            vm.pointee.sp = base + size
            vm.pointee.returns[vm.pointee.returnTop] = BytecodeReturn(callerCode: bc, callerIP: ip, callerFP: fp, dst: Int(ins.a))
            vm.pointee.returnTop &+= 1
            vm.pointee.depth = depth &+ 1
            bc = code
            fp = base
            ip = site.pointee.cacheStart.unsafelyUnwrapped
            continue
          }
          if site.pointee.calleeRegister < 0, !site.pointee.global.defined[site.pointee.global.index] {
            throw site.pointee.global.info.undefined()
          }
          remember(callee, in: UnsafeMutablePointer(mutating: site))
          var x = Value.nil
          if ins.op == .callSubK {
            x = try SubOp.apply(at(fp, ins.c).pointee, .int(site.pointee.k), site.pointee.subLoc)
          }
          fp[Int(ins.a)] = try callFromBytecode(callee, ins, site, x, fp, loc: loc(ip, bc).pointee)
        case .ret, .retNil:
          let r = ins.op == .ret ? copy(at(fp, ins.b)) : .nil
          if vm.pointee.returnTop == bottom { return r }
          popFrame(vm, &bc, &fp, &ip, r)
        case .retAdd:
          let r = try arith(AddOp.self, at(fp, ins.b), at(fp, ins.c), loc(ip, bc))
          if vm.pointee.returnTop == bottom { return r }
          popFrame(vm, &bc, &fp, &ip, r)
        // One case per comparison, each with its own return: one switch
        // on the opcode dispatches them (a nested switch on the comparison
        // was a second jump table on the hottest instruction of fib).
        case .retIfLtI:
          if try compareI(LtOp.self, at(fp, ins.b), ins.c, loc(ip, bc)) {
            let r = copy(at(fp, ins.a))
            if vm.pointee.returnTop == bottom { return r }
            popFrame(vm, &bc, &fp, &ip, r)
          }
        case .retIfLeI:
          if try compareI(LeOp.self, at(fp, ins.b), ins.c, loc(ip, bc)) {
            let r = copy(at(fp, ins.a))
            if vm.pointee.returnTop == bottom { return r }
            popFrame(vm, &bc, &fp, &ip, r)
          }
        case .retIfGtI:
          if try compareI(GtOp.self, at(fp, ins.b), ins.c, loc(ip, bc)) {
            let r = copy(at(fp, ins.a))
            if vm.pointee.returnTop == bottom { return r }
            popFrame(vm, &bc, &fp, &ip, r)
          }
        case .retIfGeI:
          if try compareI(GeOp.self, at(fp, ins.b), ins.c, loc(ip, bc)) {
            let r = copy(at(fp, ins.a))
            if vm.pointee.returnTop == bottom { return r }
            popFrame(vm, &bc, &fp, &ip, r)
          }
        case .retIfEqI:
          if try compareI(EqOp.self, at(fp, ins.b), ins.c, loc(ip, bc)) {
            let r = copy(at(fp, ins.a))
            if vm.pointee.returnTop == bottom { return r }
            popFrame(vm, &bc, &fp, &ip, r)
          }
        case .retIfNeI:
          if try compareI(NeOp.self, at(fp, ins.b), ins.c, loc(ip, bc)) {
            let r = copy(at(fp, ins.a))
            if vm.pointee.returnTop == bottom { return r }
            popFrame(vm, &bc, &fp, &ip, r)
          }
        }
        ip += 1
      }
    } catch {
      throw unwindBytecode(error, to: bottom, bc, fp)
    }
  }

  @inline(__always)
  private func locs(_ bc: Unmanaged<Bytecode>, _ pc: Int) -> UnsafeMutablePointer<SourceLocation> {
    bc._withUnsafeGuaranteedRef { $0.locs } + pc
  }

  /// Fills an empty call-site cache with the closure at `callee` when it
  /// has bytecode and takes the site's arguments with no preparation; the
  /// closure is pinned for the life of the code (as `GlobalCallSite` does).
  private func remember(_ callee: UnsafeMutablePointer<Value>, in site: UnsafeMutablePointer<BytecodeCallSite>) {
    guard site.pointee.cacheTag == ValueLayout.noTag, case .function(let c) = callee.pointee,
      let code = c.proto.bytecodeRef, c.proto.fastArity == site.pointee.argc
    else { return }
    _ = Unmanaged.passRetained(c)
    site.pointee.cacheBits = ValueLayout.payload(callee)
    site.pointee.cacheTag = ValueLayout.tag(callee)
    site.pointee.cacheCode = code
    site.pointee.cacheProto = Unmanaged.passUnretained(c.proto)
    site.pointee.cacheSize = c.proto.frameSize
    code._withUnsafeGuaranteedRef { b in
      site.pointee.cacheStart = b.code
      site.pointee.cacheConstants = b.constants
      site.pointee.cacheConstantCount = b.constantCount
      site.pointee.cacheFirstConstant = b.firstConstant
    }
  }

  /// A call the loop does not make itself: a built-in, a function without
  /// bytecode, or any call that needs `enterSlow` (limits, Ctrl-C).
  @inline(never)
  private func callFromBytecode(_ callee: UnsafeMutablePointer<Value>, _ ins: Instr,
                                _ site: UnsafePointer<BytecodeCallSite>, _ x: Value, _ fp: Frame,
                                loc: SourceLocation) throws -> Value {
    let argc = site.pointee.argc
    @inline(__always) func arg(_ i: Int) -> Value { ins.op == .callSubK ? x : fp[Int(ins.c) + i] }
    // A built-in is read without counting a reference: built-ins live as
    // long as the process (`Interpreter.builtins`), and a count changed
    // right after a fork (spawn's) copies the page it is on.
    if ValueLayout.tag(callee) == ValueLayout.builtinTag {
      let b = Unmanaged<Builtin>.fromOpaque(UnsafeRawPointer(bitPattern: ValueLayout.payload(callee)).unsafelyUnwrapped)
      return try b._withUnsafeGuaranteedRef { b in
        if argc == 1, let f1 = b.fn1 {
          do { return try f1(arg(0), self) } catch let e as MPError { throw e.located(loc) }
        }
        if argc == 2, let f2 = b.fn2 {
          do { return try f2(arg(0), arg(1), self) } catch let e as MPError { throw e.located(loc) }
        }
        return try callBuiltin(b, (0..<argc).map(arg), loc: loc)
      }
    }
    let fv = callee.pointee
    switch fv {
    case .function(let c):
      let base = vm.pointee.sp
      var n = 0
      while n < argc {
        try pushOrRelease(arg(n), base: base, count: n, loc: loc)
        n += 1
      }
      return try enter(c, base: base, argc: argc, loc: loc)
    case .builtin(let b):
      if argc == 1, let f1 = b.fn1 {
        do { return try f1(arg(0), self) } catch let e as MPError { throw e.located(loc) }
      }
      if argc == 2, let f2 = b.fn2 {
        do { return try f2(arg(0), arg(1), self) } catch let e as MPError { throw e.located(loc) }
      }
      return try callBuiltin(b, (0..<argc).map(arg), loc: loc)
    default:
      return try callValue(fv, (0..<argc).map(arg), loc,
                           callee: CalleeName(name: site.pointee.global.info.name, scope: "global"))
    }
  }

  /// Pops the bytecode frames above `bottom` after an error, adding each
  /// one to the error's mp call stack as `runBody` does for a closure's.
  /// `bc` and `fp` are the code and frame that were running.
  @inline(never)
  private func unwindBytecode(_ error: Error, to bottom: Int, _ bc: Unmanaged<Bytecode>, _ fp: Frame) -> Error {
    var e = error
    var (bc, fp) = (bc, fp)
    while vm.pointee.returnTop > bottom {
      vm.pointee.returnTop -= 1
      let back = vm.pointee.returns[vm.pointee.returnTop]
      let callLoc = back.callerCode._withUnsafeGuaranteedRef { $0.locs[back.callerIP - $0.code] }
      let size = bc._withUnsafeGuaranteedRef { $0.frameSize }
      e = bc._withUnsafeGuaranteedRef { $0.proto.traced(e, calledAt: callLoc) }
      var j = 0
      while j < size {
        if !(fp + j).pointee.isInline { (fp + j).deinitialize(count: 1) }
        j += 1
      }
      vm.pointee.sp = fp
      vm.pointee.depth -= 1
      bc = back.callerCode
      fp = back.callerFP
    }
    return e
  }
}
