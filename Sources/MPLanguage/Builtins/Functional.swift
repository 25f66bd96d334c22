/// Built-ins over collections that take functions or options by keyword
/// (docs/reference.md): `min`, `max` and `sorted` with `key=` and
/// `reverse=`, `map`, `filter`, `any`, `all`.
extension Interpreter {
  static func registerFunctionalBuiltins() {
    // As every core built-in: one the runtime registered first is kept.
    func register(_ b: Builtin) { if builtins[b.name] == nil { Interpreter.register(b) } }
    let min = Builtin(
      "min", 1, -1, "min(a, b, ...) or min(items, key=f, default=v): the smallest (the first of equals)",
      params: [], keywordOnly: ["key", "default"]
    ) { a, options, i in try extreme(a, options, i, "min", less: true) }
    let max = Builtin(
      "max", 1, -1, "max(a, b, ...) or max(items, key=f, default=v): the largest (the first of equals)",
      params: [], keywordOnly: ["key", "default"]
    ) { a, options, i in try extreme(a, options, i, "max", less: false) }
    // Two ints, the common case, without an array; ties keep the first, as in Python.
    min.fn2 = { a, b, i in
      if case .int(let x) = a, case .int(let y) = b { return y < x ? b : a }
      return try extreme([a, b], [:], i, "min", less: true)
    }
    max.fn2 = { a, b, i in
      if case .int(let x) = a, case .int(let y) = b { return x < y ? b : a }
      return try extreme([a, b], [:], i, "max", less: false)
    }
    register(min)
    register(max)
    register(Builtin(
      "sorted", 1, 3, "sorted(items, key=nil, reverse=false): a new sorted list; key(x) gives the sort key",
      params: ["items", "key", "reverse"]
    ) { a, i in
      let reverse = a.count > 2 && a[2].isTruthy
      return .list(ListRef(try i.sortValues(try i.iterate(a[0]), key: a.count > 1 ? a[1] : nil, reverse: reverse)))
    })
    register(Builtin(
      "map", 2, -1, "map(f, items, ...): the list [f(x) for x in items] (with more lists: f(x, y, ...) up to the shortest)",
      params: ["f", "items"]
    ) { a, i in
      if a.count == 2 {
        let f = a[0]
        return .list(ListRef(try i.iterate(a[1]).map { try i.call1(f, $0) }))
      }
      let lists = try a.dropFirst().map { try i.iterate($0) }
      let n = lists.map(\.count).min() ?? 0
      return .list(ListRef(try (0..<n).map { k in try i.call(a[0], lists.map { $0[k] }) }))
    })
    register(Builtin(
      "filter", 2, 2, "filter(f, items): the list of the items x for which f(x) is truthy (f nil: the truthy items)",
      params: ["f", "items"]
    ) { a, i in
      let items = try i.iterate(a[1])
      if case .nil = a[0] { return .list(ListRef(items.filter { $0.isTruthy })) }
      return .list(ListRef(try items.filter { try i.call1(a[0], $0).isTruthy }))
    })
    register(Builtin("any", 1, 1, "any(items): true if some item is truthy", params: ["items"]) { a, i in
      .bool(try i.iterate(a[0]).contains { $0.isTruthy })
    })
    register(Builtin("all", 1, 1, "all(items): true if every item is truthy (true for none)", params: ["items"]) { a, i in
      .bool(try i.iterate(a[0]).allSatisfy { $0.isTruthy })
    })
  }
}

/// `min`/`max`: of the arguments, or of one iterable; `key` compares by
/// key(x), `default` answers for an empty iterable. Ties keep the first.
func extreme(_ a: [Value], _ options: [String: Value], _ interp: Interpreter, _ name: String, less: Bool) throws -> Value {
  let items = a.count == 1 ? try interp.iterate(a[0]) : a
  if a.count > 1, options["default"] != nil {
    throw MPError(.type, "\(name)() default= only applies to a single list of items")
  }
  guard var best = items.first else {
    if let d = options["default"] { return d }
    throw MPError(.value, "\(name)() of an empty sequence")
  }
  var key: Value? = options["key"]
  if case .nil? = key { key = nil }
  var bestKey = try key.map { try interp.call1($0, best) } ?? best
  for x in items.dropFirst() {
    let k = try key.map { try interp.call1($0, x) } ?? x
    if less ? try lessThan(k, bestKey, "<", noLoc) : try lessThan(bestKey, k, "<", noLoc) {
      best = x
      bestKey = k
    }
  }
  return best
}
