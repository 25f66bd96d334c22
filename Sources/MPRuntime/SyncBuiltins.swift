import Glibc
import MPLanguage

extension Runtime {
  static func registerSyncBuiltins() {
    func reg(_ name: String, _ lo: Int, _ hi: Int, _ doc: String, _ fn: @escaping ([Value], Interpreter) throws -> Value) {
      Interpreter.register(Builtin(name, lo, hi, doc, fn))
    }
    reg("lock", 0, 0, "lock(): a mutex every process can use (acquire, release, with l { }, l.locked)") { _, _ in
      .object(try LockHandle())
    }
    reg("semaphore", 0, 1, "semaphore(n=1): a counting semaphore every process can use (acquire, release, s.value)") { a, _ in
      var n = 1
      if let v = a.first {
        guard case .int(let i) = v else { throw MPError(.type, "semaphore(n) needs an int, found \(v.typeName)") }
        n = i
      }
      return .object(try SemaphoreHandle(n))
    }
    reg("shared", 1, 1, "shared(v): an int, float, bool or string every process sees (s.value, s.add(n)); shared([numbers]) an array, shared({}) a map") { a, _ in
      switch a[0] {
      case .list(let l): return .object(try SharedArrayHandle(l.items))
      case .map(let m): return .object(try SharedMapHandle(m))
      default: return .object(try SharedCellHandle(a[0]))
      }
    }
    reg("queue", 0, 1, "queue(maxsize=0): a FIFO of any values between processes (put, get, close, for x in q)") { a, _ in
      var n = 0
      if let v = a.first {
        guard case .int(let i) = v else { throw MPError(.type, "queue(maxsize) needs an int, found \(v.typeName)") }
        n = i
      }
      return .object(try QueueHandle(maxsize: n))
    }
    // The forms of one or two arguments are also given without an argument
    // array (`Builtin.oneArgument`): `acquire(l); release(l)` and
    // `put(q, x)` in a loop allocated an array per call.
    func acquire(_ x: Value, _ t: Double?) throws -> Value {
      switch x {
      case .object(let l as LockHandle): return .bool(try l.acquire(timeout: t))
      case .object(let s as SemaphoreHandle): return .bool(try s.acquire(timeout: t))
      default: throw MPError(.type, "acquire() needs a lock or semaphore, found \(x.typeName)")
      }
    }
    reg("acquire", 1, 2, "acquire(l[, timeout]): take a lock or semaphore; false if the timeout passed") { a, _ in
      try acquire(a[0], try timeout(a, 1, "acquire"))
    }
    Interpreter.builtins["acquire"]?.oneArgument { x, _ in try acquire(x, nil) }
    func release(_ x: Value) throws -> Value {
      switch x {
      case .object(let l as LockHandle): try l.release()
      case .object(let s as SemaphoreHandle): try s.release()
      default: throw MPError(.type, "release() needs a lock or semaphore, found \(x.typeName)")
      }
      return .nil
    }
    reg("release", 1, 2, "release(l) / release(s, n): give back a lock, or add n to a semaphore") { a, _ in
      guard a.count > 1 else { return try release(a[0]) }
      switch a[0] {
      case .object(is LockHandle):
        throw MPError(.type, "release(l) of a lock takes no count (only a semaphore's release takes n)")
      case .object(let s as SemaphoreHandle):
        return try s.releaseCount(a[1])
      default: throw MPError(.type, "release() needs a lock or semaphore, found \(a[0].typeName)")
      }
    }
    Interpreter.builtins["release"]?.oneArgument { x, _ in try release(x) }
    func put(_ q: Value, _ x: Value, _ t: Double?) throws -> Value {
      guard case .object(let q as QueueHandle) = q else {
        throw MPError(.type, "put() needs a queue first, found \(q.typeName)")
      }
      try q.put(x, timeout: t)
      return .nil
    }
    reg("put", 2, 3, "put(q, v[, timeout]): add v to a queue (waits while a bounded queue is full)") { a, _ in
      try put(a[0], a[1], try timeout(a, 2, "put"))
    }
    Interpreter.builtins["put"]?.twoArguments { q, x, _ in try put(q, x, nil) }
    func get(_ q: Value, _ t: Double?) throws -> Value {
      guard case .object(let q as QueueHandle) = q else {
        throw MPError(.type, "get() needs a queue, found \(q.typeName)")
      }
      return try q.get(timeout: t)
    }
    reg("get", 1, 2, "get(q[, timeout]): take the next item of a queue (waits until one arrives)") { a, _ in
      try get(a[0], try timeout(a, 1, "get"))
    }
    Interpreter.builtins["get"]?.oneArgument { q, _ in try get(q, nil) }
    reg("pool", 0, 3, "pool(n=cpu_count(), initializer, initargs): n worker processes: p.map(f, items), starmap, apply, map_unordered, the _async forms, imap, close") { a, i in
      var n = max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))
      if let v = a.first, v.typeName != "nil" {
        guard case .int(let k) = v else { throw MPError(.type, "pool(n) needs an int, found \(v.typeName)") }
        n = k
      }
      var initializer: Value = .nil
      if a.count > 1 {
        switch a[1] {
        case .nil, .function, .builtin: initializer = a[1]
        default: throw MPError(.type, "pool(n, initializer) needs a function, found \(a[1].typeName)")
        }
      }
      var initArgs: [Value] = []
      if a.count > 2 {
        switch a[2] {
        case .nil: break
        case .list(let l): initArgs = l.items
        default: throw MPError(.type, "pool(n, initializer, initargs) needs a list of arguments, found \(a[2].typeName)")
        }
      }
      return .object(try PoolHandle(size: n, initializer: initializer, initArgs: initArgs, i))
    }
    Interpreter.builtins["pool"]?.named("n", "initializer", "initargs")
    registerPrimitiveBuiltins()
    SharedHandle.makers[LockHandle.kind] = { LockHandle(existing: $0) }
    SharedHandle.makers[SemaphoreHandle.kind] = { SemaphoreHandle(existing: $0) }
    SharedHandle.makers[SharedCellHandle.kind] = { SharedCellHandle(existing: $0) }
    SharedHandle.makers[QueueHandle.kind] = { QueueHandle(existing: $0) }
    SharedHandle.makers[PoolStateHandle.kind] = { PoolStateHandle(existing: $0) }
    SharedHandle.registerCodec()
    PoolHandle.registerCodec()
    QueueHandle.registerFinalizer()
  }
}
