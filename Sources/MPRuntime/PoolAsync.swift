import CMPShim
import Glibc
import MPLanguage

/// One call on a pool whose results are collected later: what
/// `apply_async`, `map_async` and `imap` are built on. Its chunks go out
/// at once (through the pool's task queue, like `map`'s); results are taken
/// from its own reply queue whenever the caller asks (`get`, `ready`,
/// `wait`, the next item of `imap`). Closing the reply queue — when the
/// result is dropped, or an item failed — makes the workers skip what is
/// left of the call.
final class PoolCall {
  let pool: PoolHandle
  let job: Int
  let reply: QueueHandle
  let items: [Value]
  let starts: [Int]
  let chunkSize: Int
  var chunks: [[Value]?]
  /// Results in completion order (for `imap_unordered`).
  var arrived: [Value] = []
  var outstanding: Int
  var failure: MPError? = nil
  /// The pool call keeps the function (and so its handles) alive until it ends.
  let fn: Value

  init(pool: PoolHandle, _ f: Value, _ items: [Value], mode: PoolWorker.Mode, chunk: Int?) throws {
    if pool.isClosed || mp_atomic_load(pool.closedFlag) != 0 { throw MPError(.closed, "this pool is closed") }
    self.pool = pool
    self.items = items
    fn = f
    pool.replacements = 0
    if pool.isOwner { try pool.checkWorkers(job: -1, starts: [], items: [], chunkSize: 0, done: []) }
    let bundle = try pool.bundle(f)
    job = Arena.shared.nextId()
    reply = try QueueHandle(maxsize: 0)
    reply.mark(.poolResults)
    WaitGraph.poolQueues[reply.offset] = .results
    let starts: [Int]
    do {
      (starts, chunkSize) = try pool.putChunks(job: job, fn: bundle, mode: mode, reply: reply, items: items, chunk: chunk)
    } catch {
      reply.close()
      WaitGraph.poolQueues[reply.offset] = nil
      throw error
    }
    self.starts = starts
    chunks = [[Value]?](repeating: nil, count: starts.count)
    outstanding = starts.count
  }

  deinit {
    reply.close()
    WaitGraph.poolQueues[reply.offset] = nil
  }

  var isDone: Bool { outstanding == 0 || failure != nil }

  /// Takes the results that have arrived, waiting until `until()` holds or
  /// the deadline passes (nil: for ever; a past deadline: no waiting).
  /// Returns whether `until()` holds. A failed item is raised here, and
  /// again on every later call.
  func pump(deadline: Double?, until: () -> Bool) throws -> Bool {
    if let failure { throw failure.rethrowable }
    // Without a deadline this is a wait for ever, polled in slices only to
    // notice dead workers: the process table records it as untimed, as
    // for `map` (a deadlock check can count it).
    if deadline == nil { ProcessTable.beginPolling() }
    defer { if deadline == nil { ProcessTable.endPolling() } }
    while !until() {
      var slice = 0.1
      if let deadline {
        let left = deadline - mp_now()
        if left <= 0 {
          // One last look without waiting.
          while let bytes = try? reply.getBytes(timeout: 0) { try take(bytes) }
          return until()
        }
        slice = min(slice, left)
      }
      do {
        try take(try reply.getBytes(timeout: slice))
      } catch let e as MPError where e.kind == .timeout {
        // Results already sent count even if their worker died since.
        while !until(), let more = try? reply.getBytes(timeout: 0) { try take(more) }
        if until() { break }
        do {
          try pool.checkWorkers(job: job, starts: starts, items: items, chunkSize: chunkSize, done: chunks.map { $0 != nil })
        } catch let e as MPError {
          fail(e)
          throw e
        }
        // A pool closed by killing its workers (a `with` block left by an
        // error) will never finish the rest of this call.
        if mp_atomic_load(pool.closedFlag) != 0
          && pool.workerPids.allSatisfy({ $0 <= 0 || PoolHandle.isGone(pid_t(truncatingIfNeeded: $0)) })
        {
          while !until(), let more = try? reply.getBytes(timeout: 0) { try take(more) }
          if until() { break }
          let e = MPError(.closed, "the pool was shut down before this call finished (\(outstanding) of \(starts.count) chunks never ran)")
          fail(e)
          throw e
        }
      } catch let e as MPError {
        if e.kind == .interrupt && pool.isOwner {
          for w in pool.workers { Glibc.kill(w.pid, SIGKILL) }
          pool.respawnDead()
        }
        if e.kind != .interrupt { fail(e) }
        throw e
      }
    }
    return true
  }

  private func fail(_ e: MPError) {
    failure = e
    reply.close()
  }

  private func take(_ bytes: [UInt8]) throws {
    var d = Codec.Decoder(bytes)
    guard try d.varint() == job else { return }
    let index = try d.varint()
    guard index < chunks.count, chunks[index] == nil else { throw MPError(.process, "corrupt pool result") }
    if try d.byte() == 0 {
      guard case .list(let l) = try d.value() else { throw MPError(.process, "corrupt pool result") }
      chunks[index] = l.items
      arrived.append(contentsOf: l.items)
      outstanding -= 1
      if outstanding == 0 { reply.close() }
      return
    }
    let k = try d.varint()
    let pid = try d.varint()
    let inner = try ChildOutcome.decodeError(bytes[d.pos...])
    let itemIndex = starts[index] + k
    var where_ = ""
    if let l = inner.loc { where_ = " (at \(l))" }
    let item = itemIndex < items.count ? items[itemIndex].repr : "?"
    var e = MPError(.process, "pool worker \(pid) failed on item \(itemIndex) (\(item.count > 60 ? String(item.prefix(57)) + "..." : item)): \(inner.message)\(where_)")
    e.trace = inner.trace
    e.value = Interpreter.errorValue(inner)
    fail(e)
    throw e
  }

  /// The results in input order (once done).
  var ordered: [Value] { chunks.flatMap { $0 ?? [] } }

  /// Which chunk holds item `i`.
  func chunk(of i: Int) -> Int { i / chunkSize }
}

/// What `apply_async` and `map_async` return: `r.get([timeout])`,
/// `r.ready()`, `r.wait([timeout])`, `r.successful()`. It belongs to the
/// process that made the call.
public final class AsyncResultHandle: MPObject {
  let call: PoolCall
  /// `apply_async` gives one value, not a list of one.
  let single: Bool

  init(_ call: PoolCall, single: Bool) {
    self.call = call
    self.single = single
  }

  public override var typeName: String { "result" }
  public override var repr: String {
    "<result \(call.failure != nil ? "failed" : call.outstanding == 0 ? "ready" : "pending")>"
  }
  public override var memberNames: [String] { ["get", "ready", "wait", "successful"] }

  public override func callMethod(_ name: String, _ args: [Value], _ interp: Interpreter) throws -> Value? {
    switch name {
    case "get":
      try methodArity(name, args, 0, 1)
      let t = try Runtime.timeout(args, 0, "get")
      guard try call.pump(deadline: SyncWait.deadline(t), until: { call.outstanding == 0 }) else {
        throw MPError(.timeout, "get timed out after \(formatDuration(t ?? 0)) s: \(call.outstanding) of \(call.starts.count) chunks still running")
      }
      return single ? (call.ordered.first ?? .nil) : .list(ListRef(call.ordered))
    case "ready":
      try methodArity(name, args, 0, 0)
      _ = try? call.pump(deadline: 0, until: { call.outstanding == 0 })
      return .bool(call.isDone)
    case "wait":
      try methodArity(name, args, 0, 1)
      let t = try Runtime.timeout(args, 0, "wait")
      do {
        _ = try call.pump(deadline: SyncWait.deadline(t), until: { call.outstanding == 0 })
      } catch let e as MPError where e.kind == .interrupt {
        throw e
      } catch {
        // The call's own error is for get(); wait only says it has ended.
      }
      return .bool(call.isDone)
    case "successful":
      try methodArity(name, args, 0, 0)
      _ = try? call.pump(deadline: 0, until: { call.outstanding == 0 })
      guard call.isDone else { throw MPError(.value, "successful() on a result that is not ready yet") }
      return .bool(call.failure == nil)
    default: return nil
    }
  }
}

/// What `imap` and `imap_unordered` return: results as they arrive, in
/// input order (`imap`) or completion order (`imap_unordered`), through
/// `for r in it { }` or `it.next([timeout])`.
public final class PoolIteratorHandle: MPObject {
  let call: PoolCall
  let ordered: Bool
  var nextIndex = 0

  init(_ call: PoolCall, ordered: Bool) {
    self.call = call
    self.ordered = ordered
  }

  public override var typeName: String { "iterator" }
  public override var repr: String { "<iterator \(nextIndex) of \(call.items.count) taken>" }
  public override var memberNames: [String] { ["next"] }

  /// The next result; nil when every one has been taken.
  func next(timeout: Double?) throws -> Value? {
    guard nextIndex < call.items.count else { return nil }
    let i = nextIndex
    let ready: () -> Bool = ordered
      ? { [call] in call.chunks[call.chunk(of: i)] != nil }
      : { [call] in call.arrived.count > i }
    guard try call.pump(deadline: SyncWait.deadline(timeout), until: ready) else {
      throw MPError(.timeout, "next timed out after \(formatDuration(timeout ?? 0)) s waiting for result \(i)")
    }
    nextIndex += 1
    if !ordered { return call.arrived[i] }
    let c = call.chunk(of: i)
    return call.chunks[c]?[i - call.starts[c]]
  }

  public override func callMethod(_ name: String, _ args: [Value], _ interp: Interpreter) throws -> Value? {
    guard name == "next" else { return nil }
    try methodArity(name, args, 0, 1)
    guard let v = try next(timeout: try Runtime.timeout(args, 0, "next")) else {
      throw MPError(.closed, "next() on an iterator whose results have all been taken")
    }
    return v
  }

  public override func makeIterator(_ interp: Interpreter) throws -> (() throws -> Value?)? {
    return { [self] in try self.next(timeout: nil) }
  }
}

extension PoolHandle {
  /// `apply_async`, `map_async`, `starmap_async`, `imap`, `imap_unordered`;
  /// nil for other names.
  func callAsyncMethod(_ name: String, _ args: [Value], _ interp: Interpreter) throws -> Value? {
    func chunkArg(_ i: Int) throws -> Int? {
      guard i < args.count else { return nil }
      if case .nil = args[i] { return nil }
      guard case .int(let c) = args[i], c >= 1 else {
        throw MPError(.type, "\(name)() chunksize must be an int >= 1, found \(args[i].repr)")
      }
      return c
    }
    switch name {
    case "apply_async":
      try methodArity(name, args, 1, 64)
      let call = try PoolCall(pool: self, args[0], [.list(ListRef(Array(args.dropFirst())))], mode: .star, chunk: 1)
      return .object(AsyncResultHandle(call, single: true))
    case "map_async", "starmap_async":
      try methodArity(name, args, 2, 3)
      let items = try interp.iterate(args[1])
      let call = try PoolCall(pool: self, args[0], items, mode: name == "map_async" ? .single : .star, chunk: try chunkArg(2))
      return .object(AsyncResultHandle(call, single: false))
    case "imap", "imap_unordered":
      try methodArity(name, args, 2, 3)
      let items = try interp.iterate(args[1])
      // Python's default for imap: one item a chunk, so results flow early.
      let call = try PoolCall(pool: self, args[0], items, mode: .single, chunk: try chunkArg(2) ?? 1)
      return .object(PoolIteratorHandle(call, ordered: name == "imap"))
    default: return nil
    }
  }
}

extension PoolWorker {
  /// `pool(n, initializer, initargs)`: runs once in each worker before its
  /// first task (in a replacement worker too). A failing initializer ends
  /// the worker with its error on stderr; the pool replaces it, and gives
  /// up on a call when its workers keep dying.
  func runInitializer(_ interp: Interpreter) {
    if case .nil = pool.initializer { return }
    // The state word was 2 from the fork (PoolHandle.startWorker): 0 now
    // that the worker will next take a task.
    defer { mp_atomic_store(pool.slot(index), 0) }
    do {
      _ = try interp.call(pool.initializer, pool.initArgs)
    } catch let e as MPError {
      var at = ""
      if let l = e.loc { at = " (at \(l))" }
      writeAll(2, "mp: pool worker \(getpid()): initializer failed: \(e.message)\(at)\n")
      Runtime.finishChild(.exit(1))
    } catch {
      Runtime.finishChild(.exit(1))
    }
  }
}
