/// Calls with keyword arguments (grammar.md, "Keyword arguments"): each is
/// turned into a positional call by the callee's parameter names, then
/// made like any other. Positional calls never come here.
extension Interpreter {
  /// Names of the parameters of methods, by the receiver's type name (what
  /// `type(v)` says) and method name, for calls such as `q.get(timeout=1)`.
  /// A method not listed takes positional arguments only.
  nonisolated(unsafe) public static var methodParameters: [String: [String: [String]]] = [
    "list": ["push": ["item"], "append": ["item"], "pop": ["index"], "insert": ["index", "item"],
             "index": ["item"], "contains": ["item"], "remove": ["item"], "extend": ["items"],
             "slice": ["start", "end"], "sort": ["key", "reverse"]],
    "string": ["split": ["sep"], "count": ["sub"], "find": ["sub"], "contains": ["sub"], "replace": ["old", "new"],
               "startswith": ["prefix"], "endswith": ["suffix"], "join": ["items"], "slice": ["start", "end"]],
    "map": ["get": ["key", "default"], "contains": ["key"], "remove": ["key"]],
  ]

  /// Declares the parameter names of a method of type `type` (the runtime
  /// names its handles' methods this way: `("queue", "get", ["timeout"])`).
  public static func registerMethodParameters(_ type: String, _ method: String, _ params: [String]) {
    methodParameters[type, default: [:]][method] = params
  }

  func callKeywords(_ f: Value, _ args: [Value], _ names: [String], _ values: [Value], _ loc: SourceLocation,
                    callee: CalleeName? = nil) throws -> Value {
    switch f {
    case .function(let c):
      return try callClosureKeywords(c, args, names, values, loc)
    case .builtin(let b):
      return try callBuiltinKeywords(b, args, names, values, loc)
    case .object(let m as BoundMethod):
      return try callMethodKeywords(m.receiver, m.name, args, names, values, loc)
    case .object(let o):
      throw MPError(.type, "a \(o.typeName) cannot be called with keyword arguments", at: loc)
    default:
      if let callee { throw notCallable(f, callee, loc) }
      throw MPError(.type, "cannot call a value of type \(f.typeName) (it is not a function)", at: loc)
    }
  }

  func callClosureKeywords(_ c: Closure, _ args: [Value], _ names: [String], _ values: [Value], _ loc: SourceLocation) throws -> Value {
    let p = c.proto
    let fname = "\(p.name)()"
    if args.count > p.nparams {
      throw MPError(.type, "\(fname) takes at most \(p.nparams) positional argument\(p.nparams == 1 ? "" : "s"), got \(args.count)", at: loc)
    }
    var slots: [Value?] = args.map { $0 }
    slots.append(contentsOf: repeatElement(nil, count: p.nparams - args.count))
    for (k, name) in names.enumerated() {
      let i = try parameterIndex(name, of: fname, in: p.paramNames, loc)
      if slots[i] != nil {
        throw MPError(.type, "\(fname) got two values for '\(name)' (one by position, one by name)", at: loc)
      }
      slots[i] = values[k]
    }
    var missing: [Int] = []
    for i in 0..<p.nparams where slots[i] == nil {
      if p.defaults[i] == nil {
        throw MPError(.type, "\(fname) missing argument '\(p.paramNames[i])'", at: loc)
      }
      missing.append(i)
    }
    let base = try pushEach(slots, loc: loc) { $0 ?? .nil }
    return try enterSlow(c, base: base, argc: p.nparams, loc: loc, missing: missing)
  }

  func callBuiltinKeywords(_ b: Builtin, _ args: [Value], _ names: [String], _ values: [Value], _ loc: SourceLocation) throws -> Value {
    let fname = "\(b.name)()"
    var full = args
    var options: [String: Value] = [:]
    var given = Array(repeating: true, count: args.count)
    for (k, name) in names.enumerated() {
      if b.keywordOnly.contains(name) {
        options[name] = values[k]
        continue
      }
      let i = try parameterIndex(name, of: fname, in: b.params, loc, keywordOnly: b.keywordOnly)
      if i < full.count, given[i] {
        throw MPError(.type, "\(fname) got two values for '\(name)' (one by position, one by name)", at: loc)
      }
      while full.count <= i {
        full.append(.nil)
        given.append(false)
      }
      full[i] = values[k]
      given[i] = true
    }
    for i in 0..<min(b.minArgs, b.params.count) where i >= given.count || !given[i] {
      throw MPError(.type, "\(fname) missing argument '\(b.params[i])'", at: loc)
    }
    if let fk = b.fnKeywords {
      if full.count < b.minArgs || (b.maxArgs >= 0 && full.count > b.maxArgs) {
        throw MPError(.type, "\(fname) takes \(Interpreter.arityText(b.minArgs, b.maxArgs)), got \(full.count)", at: loc)
      }
      do {
        return try fk(full, options, self)
      } catch let e as MPError {
        throw e.located(loc)
      }
    }
    return try callBuiltin(b, full, loc: loc)
  }

  func callMethodKeywords(_ v: Value, _ name: String, _ args: [Value], _ names: [String], _ values: [Value], _ loc: SourceLocation) throws -> Value {
    guard let params = Interpreter.methodParameters[v.typeName]?[name] else {
      // A module's function is called like any function.
      if case .object(let o) = v, let f = try o.member(name) {
        switch f {
        case .function, .builtin, .object(is BoundMethod): return try callKeywords(f, args, names, values, loc)
        default: break
        }
      }
      _ = try getMember(v, name, loc)  // "no member" comes first
      throw MPError(.type, "\(v.typeName) method \(name)() takes no keyword arguments", at: loc)
    }
    let fname = "\(name)()"
    var full = args
    var given = Array(repeating: true, count: args.count)
    for (k, kname) in names.enumerated() {
      let i = try parameterIndex(kname, of: fname, in: params, loc)
      if i < full.count, given[i] {
        throw MPError(.type, "\(fname) got two values for '\(kname)' (one by position, one by name)", at: loc)
      }
      while full.count <= i {
        full.append(.nil)
        given.append(false)
      }
      full[i] = values[k]
      given[i] = true
    }
    return try callMethod(v, name, full, loc)
  }

  /// Where parameter `name` sits, or an error naming the ones there are.
  func parameterIndex(_ name: String, of fname: String, in params: [String], _ loc: SourceLocation,
                      keywordOnly: [String] = []) throws -> Int {
    if let i = params.firstIndex(of: name) { return i }
    let all = params + keywordOnly
    if all.isEmpty { throw MPError(.type, "\(fname) takes no keyword arguments", at: loc) }
    var msg = "\(fname) has no parameter named '\(name)'"
    if let s = nearestName(name, among: all) { msg += "; did you mean '\(s)'?" }
    msg += " (its parameters: \(all.joined(separator: ", ")))"
    throw MPError(.type, msg, at: loc)
  }
}
