/// Calls and loops over iterables.
extension Compiler {
  mutating func compileCall(_ callee: Expr, _ args: [Expr], _ loc: SourceLocation) throws -> ExprCode {
    if case .member(let obj, let name, let mloc) = callee {
      return try compileMethodCall(obj, name, args, mloc)
    }
    if case .name(let ref) = callee, ValueLayout.isAsExpected {
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
    // One plain local (`for i in ...`, the usual case) is stored straight
    // into its slot: the binder's two closure calls were a third of the
    // cost of a short loop body.
    let slot: Int
    if case .single(let d) = pattern, case .local(let s) = d.storage, !d.isCaptured { slot = s } else { slot = -1 }
    return { fp in
      // nil: keep looping; otherwise the loop ends with this flow.
      @inline(__always) func step(_ x: Value) throws -> Flow? {
        if slot >= 0 {
          let p = fp + slot
          if p.pointee.isInline { p.initialize(to: x) } else { p.pointee = x }
        } else {
          try bind(fp, x)
        }
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
          throw MPError(.type, "cannot iterate over a \(o.typeName)", at: loc)
        }
      default:
        throw MPError(.type, "cannot iterate over a value of type \(v.typeName) (expected a list, string, map, range or queue)", at: loc)
      }
      return .next
    }
  }
}
