/// Assignments: `x = v`, `x op= v`, `xs[i] = v`, `o.name = v`, and the
/// unpacking forms `let a, b = pair` and `a, b = b, a` (grammar.md).
extension Compiler {
  mutating func compileAssign(_ target: AssignTarget, _ op: ArithmeticOperator?, _ value: Expr, _ loc: SourceLocation) throws -> StmtCode {
    switch target {
    case .name(let ref):
      var localSlot: Int? = nil
      var global: GlobalOperand? = nil
      switch ref.binding {
      case .local(let d):
        if !d.isCaptured, case .local(let s) = d.storage { localSlot = s }
      case .global, .unresolved:
        global = try globalOperand(ref)
      case .upvalue: break
      }
      if let op, let code = specializedCompound(op, localSlot, global, try operand(value), loc) { return code }
      if op == nil, let s = localSlot {
        switch try operand(value) {
        case .local(let x): return assignCode(toLocal: s, x)
        case .constant(let x): return assignCode(toLocal: s, x)
        case .global(let x): return assignCode(toLocal: s, x)
        case .code(let x): return assignCode(toLocal: s, x)
        }
      }
      let v = try op.map { try compileBinary(.arithmetic($0), target.expr, value, loc) } ?? compileExpr(value)
      let write = try compileNameWrite(ref)
      return { fp in
        try write(fp, try v(fp))
        return .next
      }
    case .index(let obj, let idx, let iloc):
      let v = try compileExpr(value)
      // `xs[i] = e` on a local list: stored in place, no child closures.
      if op == nil, case .local(let base) = try leafOperand(obj) {
        switch try leafOperand(idx) {
        case .local(let k): return setIndexLocal(base.slot, k, v, iloc)
        case .constant(let k): return setIndexLocal(base.slot, k, v, iloc)
        default: break
        }
      }
      let oc = try compileExpr(obj), ic = try compileExpr(idx)
      if let op {
        return { fp in
          let o = try oc(fp), i = try ic(fp)
          let old = try indexValue(o, i, iloc)
          let r = try binaryOperator(op)(old, try v(fp), loc)
          try setIndex(o, i, r, iloc)
          return .next
        }
      }
      return { fp in
        let o = try oc(fp), i = try ic(fp)
        try setIndex(o, i, try v(fp), iloc)
        return .next
      }
    case .member(let obj, let name, let mloc):
      let v = try compileExpr(value)
      let oc = try compileExpr(obj)
      let interp = self.interp
      if let op {
        return { fp in
          let o = try oc(fp)
          let old = try interp.getMember(o, name, mloc)
          try interp.setMember(o, name, try binaryOperator(op)(old, try v(fp), loc), mloc)
          return .next
        }
      }
      return { fp in
        try interp.setMember(try oc(fp), name, try v(fp), mloc)
        return .next
      }
    }
  }


  /// Code that stores a value into a target, evaluating the target's own
  /// parts (the list and index, the object) at store time, as Python does
  /// for `xs[i], xs[j] = ...`.
  func compileTargetStore(_ t: AssignTarget) throws -> (Frame, Value) throws -> Void {
    var me = self
    switch t {
    case .name(let ref):
      return try compileNameWrite(ref)
    case .index(let obj, let idx, let iloc):
      let oc = try me.compileExpr(obj), ic = try me.compileExpr(idx)
      return { fp, v in try setIndex(try oc(fp), try ic(fp), v, iloc) }
    case .member(let obj, let name, let mloc):
      let oc = try me.compileExpr(obj)
      let interp = self.interp
      return { fp, v in try interp.setMember(try oc(fp), name, v, mloc) }
    }
  }

  /// The values to unpack into `n` places: each expression's value when
  /// there are several, else the items of the one list.
  mutating func compileUnpackValues(_ values: [Expr], count n: Int, _ loc: SourceLocation) throws -> (Frame) throws -> [Value] {
    if values.count == 1 {
      let c = try compileExpr(values[0])
      return { fp in try unpackList(try c(fp), count: n, loc) }
    }
    let codes = try values.map { ExprBox(run: try compileExpr($0)) }
    return { fp in
      var out: [Value] = []
      out.reserveCapacity(codes.count)
      for c in codes { out.append(try c.run(fp)) }
      if out.count != n {
        throw MPError(.value, "cannot unpack \(out.count) values into \(n) names", at: loc)
      }
      return out
    }
  }

  mutating func compileLetUnpack(_ decls: [Decl], _ values: [Expr], _ loc: SourceLocation) throws -> StmtCode {
    let get = try compileUnpackValues(values, count: decls.count, loc)
    let stores = try decls.map { try storeDecl($0) }
    for d in decls { localNames.append(d.name) }
    return { fp in
      let vs = try get(fp)
      for (i, s) in stores.enumerated() { s(fp, vs[i]) }
      return .next
    }
  }

  mutating func compileAssignUnpack(_ targets: [AssignTarget], _ values: [Expr], _ loc: SourceLocation) throws -> StmtCode {
    let get = try compileUnpackValues(values, count: targets.count, loc)
    let stores = try targets.map { try compileTargetStore($0) }
    return { fp in
      let vs = try get(fp)
      for (i, s) in stores.enumerated() { try s(fp, vs[i]) }
      return .next
    }
  }
}

/// The items of `v` when it is a list of exactly `n`; a `"value"` error
/// otherwise (grammar.md, destructuring).
func unpackList(_ v: Value, count n: Int, _ loc: SourceLocation) throws -> [Value] {
  guard case .list(let l) = v, l.items.count == n else {
    let what: String
    if case .list(let l) = v { what = "a list of \(l.items.count)" } else { what = article(v.typeName) }
    throw MPError(.value, "cannot unpack \(what) into \(n) names", at: loc)
  }
  return l.items
}
