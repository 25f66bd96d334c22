import Glibc
import MPLanguage

extension Runtime {
  /// event, condition, barrier, pipe, and the shared array and map.
  static func registerPrimitiveBuiltins() {
    registerCurrent()
    func reg(_ name: String, _ lo: Int, _ hi: Int, _ doc: String, _ fn: @escaping ([Value], Interpreter) throws -> Value) {
      Interpreter.register(Builtin(name, lo, hi, doc, fn))
    }
    reg("event", 0, 0, "event(): a flag every process can set, clear and wait for (set, clear, is_set, wait)") { _, _ in
      .object(try EventHandle())
    }
    reg("condition", 0, 1, "condition([lock]): a condition variable (with c { }, wait, wait_for, notify, notify_all)") { a, _ in
      var l: LockHandle? = nil
      if let v = a.first {
        guard case .object(let h as LockHandle) = v else {
          throw MPError(.type, "condition(lock) needs a lock, found \(v.typeName)")
        }
        l = h
      }
      return .object(try ConditionHandle(lock: l))
    }
    reg("barrier", 1, 1, "barrier(n): n processes wait for each other (b.wait() returns the arrival index, reset, parties, waiting)") { a, _ in
      guard case .int(let n) = a[0] else { throw MPError(.type, "barrier(n) needs an int, found \(a[0].typeName)") }
      return .object(try BarrierHandle(parties: n))
    }
    reg("pipe", 0, 1, "pipe([duplex]): two connected ends [a, b] (send, recv, poll, close); one-way when duplex is false") { a, _ in
      var duplex = true
      if let v = a.first {
        guard case .bool(let b) = v else { throw MPError(.type, "pipe(duplex) needs a bool, found \(v.typeName)") }
        duplex = b
      }
      return .list(ListRef(try PipeEndHandle.make(duplex: duplex).map { .object($0) }))
    }
    // Keyword names (grammar.md, "Keyword arguments"): `e.wait(timeout=1)`.
    let methods: [(String, String, [String])] = [
      ("event", "wait", ["timeout"]),
      ("condition", "wait", ["timeout"]),
      ("condition", "wait_for", ["predicate", "timeout"]),
      ("condition", "notify", ["n"]),
      ("condition", "acquire", ["timeout"]),
      ("barrier", "wait", ["timeout"]),
      ("pipe", "send", ["value"]),
      ("pipe", "recv", ["timeout"]),
      ("pipe", "poll", ["timeout"]),
      // One table entry for cells, arrays and maps (all "shared"): the key
      // (an array's index, a map's key) first, then n.
      ("shared", "add", ["key", "n"]),
      ("shared", "get", ["key", "default"]),
      ("shared", "remove", ["key", "default"]),
      ("result", "get", ["timeout"]),
      ("result", "wait", ["timeout"]),
      ("iterator", "next", ["timeout"]),
      ("pool", "map_async", ["f", "items", "chunksize"]),
      ("pool", "starmap_async", ["f", "items", "chunksize"]),
      ("pool", "imap", ["f", "items", "chunksize"]),
      ("pool", "imap_unordered", ["f", "items", "chunksize"]),
    ]
    for (type, method, params) in methods { Interpreter.registerMethodParameters(type, method, params) }
    Interpreter.builtins["condition"]?.named("lock")
    Interpreter.builtins["barrier"]?.named("n")
    Interpreter.builtins["pipe"]?.named("duplex")
    SharedHandle.makers[PipeEndHandle.kind] = { PipeEndHandle(existing: $0) }
    SharedHandle.makers[EventHandle.kind] = { EventHandle(existing: $0) }
    SharedHandle.makers[ConditionHandle.kind] = { ConditionHandle(existing: $0) }
    SharedHandle.makers[BarrierHandle.kind] = { BarrierHandle(existing: $0) }
    SharedHandle.makers[SharedArrayHandle.kind] = { SharedArrayHandle(existing: $0) }
    SharedHandle.makers[SharedMapHandle.kind] = { SharedMapHandle(existing: $0) }
    ConditionHandle.registerFinalizer()
    SharedMapHandle.registerFinalizer()
    PipeEndHandle.registerFinalizer()
  }
}
