import MPLanguage

extension Runtime {
  /// The parameter names of the runtime's built-ins and handle methods, so
  /// any of them may be passed by keyword (grammar.md, "Keyword arguments"):
  /// `join(p, timeout=1)`, `acquire(l, timeout=0.5)`, `q.get(timeout=1)`.
  /// A built-in registered later may declare its own names with
  /// `Builtin(..., params: [...])` instead of being listed here.
  static func nameBuiltinParameters() {
    let names: [String: [String]] = [
      "spawn": ["f"],
      "join": ["p", "timeout"],
      "kill": ["pid", "signal"],
      "lock": [],
      "semaphore": ["n"],
      "shared": ["value"],
      "queue": ["maxsize"],
      "acquire": ["lock", "timeout"],
      "release": ["lock", "n"],
      "put": ["q", "item", "timeout"],
      "get": ["q", "timeout"],
      "pool": ["n"],
    ]
    for (name, params) in names {
      // Only where the registration did not name them itself.
      if let b = Interpreter.builtins[name], b.params.isEmpty, !params.isEmpty {
        b.named(params)
      }
    }
    let methods: [(String, String, [String])] = [
      ("process", "join", ["timeout"]),
      ("lock", "acquire", ["timeout"]),
      ("semaphore", "acquire", ["timeout"]),
      ("semaphore", "release", ["n"]),
      ("queue", "put", ["item", "timeout"]),
      ("queue", "get", ["timeout"]),
      ("shared", "add", ["n"]),
      ("pool", "map", ["f", "items", "chunksize"]),
      ("pool", "map_unordered", ["f", "items", "chunksize"]),
      ("pool", "starmap", ["f", "items", "chunksize"]),
    ]
    for (type, method, params) in methods where Interpreter.methodParameters[type]?[method] == nil {
      Interpreter.registerMethodParameters(type, method, params)
    }
  }
}
