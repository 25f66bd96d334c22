/// Expressions. Common operand shapes get closures of their own (a local
/// compared with a constant, an int added to a local) because loops spend
/// their time there.
extension Compiler {
  mutating func compileExpr(_ e: Expr, name: String? = nil) throws -> ExprCode {
    switch e {
    case .literal(let v, _):
      return { _ in v }
    case .interp(let pieces, let loc):
      return try compileInterpolation(pieces, loc)
    case .name(let ref):
      return try compileNameRead(ref)
    case .list(let items, _):
      let codes = try items.map { ExprBox(run: try compileExpr($0)) }
      return { fp in
        var out: [Value] = []
        out.reserveCapacity(codes.count)
        for c in codes { out.append(try c.run(fp)) }
        return .list(ListRef(out))
      }
    case .map(let entries, _):
      let codes = try entries.map { (ExprBox(run: try compileExpr($0.0)), ExprBox(run: try compileExpr($0.1)), $0.0.loc) }
      return { fp in
        let m = MapRef()
        for (k, v, loc) in codes {
          let kv = try k.run(fp)
          guard let key = MapKey(kv) else {
            throw MPError(.type, "map keys must be strings, ints or bools, found \(kv.typeName)", at: loc)
          }
          m[key] = try v.run(fp)
        }
        return .map(m)
      }
    case .unary(let op, let x, let loc):
      switch op {
      case .not:
        let c = try compileCond(x)
        return { fp in .bool(!(try c(fp))) }
      case .bitNot:
        let c = try compileExpr(x)
        return { fp in try bitNot(try c(fp), loc) }
      case .negate:
        let c = try compileExpr(x)
        return { fp in try negate(try c(fp), loc) }
      }
    case .binary(let op, let a, let b, let loc):
      return try compileBinary(op, a, b, loc)
    case .call(let callee, let args, let loc):
      return try compileCall(callee, args, loc)
    case .callKeywords(let callee, let args, let keywords, let loc):
      return try compileKeywordCall(callee, args, keywords, loc)
    case .slice(let a, let lo, let hi, let step, let loc):
      if step == nil, case .local(let base) = try leafOperand(a) { return try sliceLocal(base.slot, lo, hi, loc) }
      let ac = try compileExpr(a)
      let none: ExprCode = { _ in .nil }
      let l = try lo.map { try compileExpr($0) } ?? none
      let h = try hi.map { try compileExpr($0) } ?? none
      let st = try step.map { try compileExpr($0) } ?? none
      return { fp in
        let v = try ac(fp)
        return try sliceValue(v, try l(fp), try h(fp), try st(fp), loc)
      }
    case .comprehension(let c):
      return try compileComprehension(c)
    case .index(let a, let i, let loc):
      // `xs[i]` on a local list: read in place, no child closures.
      if case .local(let base) = try leafOperand(a) {
        switch try leafOperand(i) {
        case .local(let k): return indexLocal(base.slot, k, loc)
        case .constant(let k): return indexLocal(base.slot, k, loc)
        default: break
        }
      }
      let ac = try compileExpr(a), ic = try compileExpr(i)
      return { fp in try indexValue(try ac(fp), try ic(fp), loc) }
    case .member(let a, let name, let loc):
      let ac = try compileExpr(a)
      let interp = self.interp
      return { fp in try interp.getMember(try ac(fp), name, loc) }
    case .function(let fn):
      let make = try compileFunction(fn)
      return { fp in make(fp) }
    }
  }

  func indexLocal<I: Operand>(_ slot: Int, _ index: I, _ loc: SourceLocation) -> ExprCode {
    let bits = StringBits.current, chars = asciiCharTable, twoByte = twoByteCharTable, front = textFront
    return { fp in
      if case .list(let l) = fp[slot], let k = index.peekInt(fp), k >= 0, k < l.items.count { return l.items[k] }
      // A string read in place: no copy of the string, no new value (an
      // ASCII one by byte, another through its scalar index once made).
      if let k = index.peekInt(fp), let (p, n, isASCII) = bits.contiguous(fp + slot) {
        if isASCII {
          let i = k < 0 ? k &+ n : k
          if i >= 0 && i < n { return chars[Int(p[i])] }
        } else if let ux = front.index(of: p, bytes: n) {
          if let c = ux._withUnsafeGuaranteedRef({ ix -> Value? in
            let i = k < 0 ? k &+ ix.count : k
            return i >= 0 && i < ix.count ? charValue(p, ix.byteOffset(p, scalar: i), chars, twoByte) : nil
          }) { return c }
        }
      }
      return try indexValue(fp[slot], try index.get(fp), loc)
    }
  }

  /// `s[a:b]` on a local: an ASCII string is cut in place, a short piece
  /// made as a small string (one character: from the table), with no copy
  /// of `s` and no UTF-8 validation. Anything else, and any bound that is
  /// not an int, takes `sliceValue`.
  mutating func sliceLocal(_ slot: Int, _ lo: Expr?, _ hi: Expr?, _ loc: SourceLocation) throws -> ExprCode {
    let l = try lo.map { try compileExpr($0) }, h = try hi.map { try compileExpr($0) }
    let bits = StringBits.current, chars = asciiCharTable, twoByte = twoByteCharTable, front = textFront
    let empty = Value.str("")
    return { fp in
      let lv = try l?(fp) ?? .nil, hv = try h?(fp) ?? .nil
      if let (p, bytes, isASCII) = bits.contiguous(fp + slot) {
        // (Retained here: this path makes a string anyway.)
        let ix = isASCII ? nil : front.index(of: p, bytes: bytes)?.takeUnretainedValue()
        let n = ix?.count ?? bytes
        // Python's bounds for a step of 1: negative from the end, clamped.
        @inline(__always) func bound(_ v: Value, _ missing: Int) -> Int? {
          switch v {
          case .nil: return missing
          case .int(let i): return i < 0 ? max(i &+ n, 0) : min(i, n)
          default: return nil
          }
        }
        if isASCII || ix != nil, let a = bound(lv, 0), let b = bound(hv, n) {
          if b <= a { return empty }
          if let ix {
            let x = ix.byteOffset(p, scalar: a)
            if b - a == 1 { return charValue(p, x, chars, twoByte) }
            // A short piece is walked from its start (asking the index
            // for b would move its last position past the next slice's a).
            var y = x
            if b - a < 64 {
              for _ in 0..<(b - a) { y += utf8Length(lead: p[y]) }
            } else {
              y = ix.byteOffset(p, scalar: b)
            }
            return .str(makeString(p + x, y - x))
          }
          if b - a == 1 { return chars[Int(p[a])] }
          if b - a <= 15 { return .str(StringBits.smallASCII(p + a, b - a)) }
        }
      }
      return try sliceValue(fp[slot], lv, hv, .nil, loc)
    }
  }

  func setIndexLocal<I: Operand>(_ slot: Int, _ index: I, _ v: @escaping ExprCode, _ loc: SourceLocation) -> StmtCode {
    { fp in
      let x = try v(fp)
      if case .list(let l) = fp[slot], let k = index.peekInt(fp), k >= 0, k < l.items.count {
        l.items[k] = x
        return .next
      }
      try setIndex(fp[slot], try index.get(fp), x, loc)
      return .next
    }
  }

  /// Compiles an expression used as a condition straight to a Bool.
  mutating func compileCond(_ e: Expr) throws -> CondCode {
    switch e {
    case .binary(.comparison(let op), let a, let b, let loc):
      return specializedComparison(op, try operand(a), try operand(b), loc)
    case .binary(.and, let a, let b, _):
      let l = try compileCond(a), r = try compileCond(b)
      return { fp in try l(fp) && r(fp) }
    case .binary(.or, let a, let b, _):
      let l = try compileCond(a), r = try compileCond(b)
      return { fp in try l(fp) || r(fp) }
    case .unary(.not, let x, _):
      let c = try compileCond(x)
      return { fp in !(try c(fp)) }
    case .literal(let v, _):
      let t = v.isTruthy
      return { _ in t }
    default:
      let c = try compileExpr(e)
      return { fp in try c(fp).isTruthy }
    }
  }

  mutating func compileBinary(_ op: BinaryOperator, _ a: Expr, _ b: Expr, _ loc: SourceLocation) throws -> ExprCode {
    switch op {
    case .and:
      let l = try compileExpr(a), r = try compileExpr(b)
      return { fp in
        let x = try l(fp)
        return x.isTruthy ? try r(fp) : x
      }
    case .or:
      let l = try compileExpr(a), r = try compileExpr(b)
      return { fp in
        let x = try l(fp)
        return x.isTruthy ? x : try r(fp)
      }
    case .comparison:
      let c = try compileCond(.binary(op, a, b, loc))
      return { fp in .bool(try c(fp)) }
    case .membership(let negated):
      let l = try compileExpr(a), r = try compileExpr(b)
      if negated { return { fp in .bool(!(try contains(try r(fp), try l(fp), loc))) } }
      return { fp in .bool(try contains(try r(fp), try l(fp), loc)) }
    case .arithmetic(let o):
      let x = try operand(a), y = try operand(b)
      if let code = specializedArithmetic(o, x, y, loc) { return code }
      let l = try code(of: a, x), r = try code(of: b, y)
      let f = binaryOperator(o)
      return { fp in try f(try l(fp), try r(fp), loc) }
    }
  }

  func compileInterpolation(_ pieces: [InterpPiece], _ loc: SourceLocation) throws -> ExprCode {
    var me = self
    let vm = self.vm
    // Built in the VM's byte stack: digits written in place, literal text
    // copied as bytes, one String made at the end (no allocation when
    // short). An expression may run code that builds strings of its own:
    // those go above this one's bytes and are cut back before it goes on.
    // The pieces are chained by capture: closures kept in an array would be
    // reabstracted on every call.
    var chain: ((Frame) throws -> Void)? = nil
    for p in pieces.reversed() {
      let piece: (Frame) throws -> Void
      switch p {
      case .text(let text):
        let bytes = Array(text.utf8)
        let n = bytes.count
        let stored = UnsafeMutablePointer<UInt8>.allocate(capacity: max(n, 1))
        stored.initialize(from: bytes, count: n)
        piece = { _ in vm.pointee.scratch.append(UnsafeBufferPointer(start: stored, count: n)) }
      case .expr(let e, let spec?):
        let code = try me.compileExpr(e), at = e.loc
        piece = { fp in vm.pointee.scratch.append(try FormatSpec.apply(spec, to: try code(fp), at: at)) }
      case .expr(let e, nil):
        let code = try me.compileExpr(e)
        piece = { fp in
          switch try code(fp) {
          case .int(let i): vm.pointee.scratch.append(i)
          case .str(let s): vm.pointee.scratch.append(s)
          case let v: vm.pointee.scratch.append(v.str)
          }
        }
      }
      if let next = chain {
        chain = { fp in
          try piece(fp)
          try next(fp)
        }
      } else {
        chain = piece
      }
    }
    guard let all = chain else { return { _ in .str("") } }
    return { fp in
      let start = vm.pointee.scratch.count
      do {
        try all(fp)
      } catch {
        vm.pointee.scratch.count = start
        throw error
      }
      return .str(vm.pointee.scratch.take(from: start))
    }
  }

  // MARK: names

  func compileNameRead(_ ref: NameRef) throws -> ExprCode {
    switch ref.binding {
    case .local(let d):
      guard case .local(let s) = d.storage else { return try globalRead(ref) }
      if d.isCaptured {
        return { fp in cellAt(fp, s)?.value ?? .nil }
      }
      return { fp in fp[s] }
    case .upvalue(let i):
      let selfSlot = function?.selfSlot ?? -1
      return { fp in
        if case .function(let me) = fp[selfSlot] { return me.cells[i].value }
        return .nil
      }
    case .global, .unresolved:
      return try globalRead(ref)
    }
  }

  func globalRead(_ ref: NameRef) throws -> ExprCode {
    let g = try globalOperand(ref)
    return { fp in try g.get(fp) }
  }

  /// Code that stores a value into a name that already exists.
  func compileNameWrite(_ ref: NameRef) throws -> (Frame, Value) throws -> Void {
    switch ref.binding {
    case .local(let d):
      guard case .local(let s) = d.storage else { break }
      if d.isCaptured {
        return { fp, v in
          if let c = cellAt(fp, s) { c.value = v } else { fp[s] = .object(Cell(v)) }
        }
      }
      return { fp, v in fp[s] = v }
    case .upvalue(let i):
      let selfSlot = function?.selfSlot ?? -1
      return { fp, v in
        if case .function(let me) = fp[selfSlot] { me.cells[i].value = v }
      }
    case .global, .unresolved: break
    }
    let i = try globalSlot(ref)
    let values = module.values, defined = module.defined
    let m = module, locals = localNames, name = ref.name, loc = ref.loc
    return { _, v in
      if defined[i] {
        values[i] = v
        return
      }
      var e = undefinedName(name, m, locals, loc)
      e.message = "cannot assign to '\(name)': it was never declared (use 'let \(name) = ...' first)"
      throw e
    }
  }
}
