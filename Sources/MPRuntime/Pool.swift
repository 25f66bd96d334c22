import CMPShim
import Glibc
import MPLanguage

/// `pool(n)`: n worker processes forked at once that stay alive across
/// calls. Work goes out in chunks through a shared task queue, so idle
/// workers take the next chunk on demand (one slow item never holds back
/// the others) and tiny items travel in batches. Each call makes its own
/// reply queue and names it in its chunks: calls from several processes
/// can share the workers, and closing the reply queue cancels what is left
/// of a failed or interrupted call.
///
/// The pool can be used from every process of the program: those forked
/// after it was made, and any it is sent to (through a queue, as an
/// argument or a result). Only the process that made it replaces dead
/// workers and closes it; elsewhere a pool is a view of the same workers.
public final class PoolHandle: MPObject, Codec.Transferable {
  var workers: [ProcessHandle] = []
  let tasks: QueueHandle
  /// The pool's shared words, an arena object like a queue: freed when
  /// the last process that knows the pool lets it go.
  let state: PoolStateHandle
  /// Per worker, four Int64s: state (0 idle, 1 running a task, 2 running
  /// the initializer), job, chunk, pid.
  let slots: Int
  /// Shared state: one Int64, 1 once the owner closed the pool.
  let control: Int
  let size: Int
  var isClosed = false
  /// The process that made the pool: the workers are its children.
  let owner: pid_t
  /// Workers replaced during the current call (a worker that dies at
  /// start-up every time must not make the call loop forever).
  var replacements = 0
  unowned let interp: Interpreter

  /// Unchecked (as every static a child touches: Runtime.swift).
  @exclusivity(unchecked) nonisolated(unsafe) static var open: [ObjectIdentifier: PoolHandle] = [:]

  /// `pool(n, initializer)`: run once in each worker as it starts.
  var initializer: Value = .nil
  var initArgs: [Value] = []
  /// Globals of the main module when the workers were forked: they have
  /// their own, so calls do not ship them (PoolAsync.swift, globals rule).
  var globalsAtFork: Set<String> = []

  init(size n: Int, initializer: Value = .nil, initArgs: [Value] = [], _ interp: Interpreter) throws {
    guard n >= 1 else { throw MPError(.value, "pool(n) needs at least 1 worker, got \(n)") }
    try Runtime.checkRoom(forWorkers: n, of: "pool(\(n))")
    size = n
    self.interp = interp
    self.initializer = initializer
    self.initArgs = initArgs
    globalsAtFork = Set(interp.main.definedNames)
    owner = getpid()
    tasks = try QueueHandle(maxsize: 0)
    tasks.mark(.poolTasks)
    WaitGraph.poolQueues[tasks.offset] = .tasks
    state = try PoolStateHandle(workers: n)
    control = state.offset + SharedHandle.headerSize
    slots = control + 16
    super.init()
    mp_atomic_store(closedFlag, 0)
    do {
      for i in 0..<n { workers.append(try startWorker(i)) }
    } catch {
      shutdown(kill: true)
      throw error
    }
    PoolHandle.open[ObjectIdentifier(self)] = self
  }

  /// Another process's pool, received in a message.
  init(view tasks: QueueHandle, state: PoolStateHandle, size: Int, owner: pid_t, _ interp: Interpreter) {
    self.tasks = tasks
    self.state = state
    control = state.offset + SharedHandle.headerSize
    slots = control + 16
    self.size = size
    self.owner = owner
    self.interp = interp
    super.init()
  }

  public static let codecKind: UInt8 = 3

  public func encodePayload(_ e: inout Codec.Encoder) throws {
    try e.value(.object(tasks))
    try e.value(.object(state))
    e.varint(size)
    e.varint(Int(owner))
  }

  static func registerCodec() {
    QueueHandle.droppers[QueueHandle.ItemFormat.poolTasks.rawValue] = PoolWorker.dropTask
    QueueHandle.droppers[QueueHandle.ItemFormat.poolResults.rawValue] = PoolWorker.dropResult
    Codec.register(kind: codecKind) { d in
      guard case .object(let t) = try d.value(), let tasks = t as? QueueHandle else {
        throw MPError(.value, "corrupt pool in a message")
      }
      guard case .object(let st) = try d.value(), let state = st as? PoolStateHandle else {
        throw MPError(.value, "corrupt pool in a message")
      }
      let size = try d.varint(), owner = try d.varint()
      guard size >= 1, size <= 1 << 16, let interp = Interpreter.current
      else { throw MPError(.value, "corrupt pool in a message") }
      if let own = open.values.first(where: { $0.state.offset == state.offset }) { return .object(own) }
      return .object(PoolHandle(view: tasks, state: state, size: size, owner: pid_t(truncatingIfNeeded: owner), interp))
    }
  }

  func slot(_ i: Int) -> UnsafeMutablePointer<Int64> { Arena.shared.at(slots + 32 * i).assumingMemoryBound(to: Int64.self) }
  var closedFlag: UnsafeMutablePointer<Int64> { Arena.shared.at(control).assumingMemoryBound(to: Int64.self) }
  var isOwner: Bool { getpid() == owner }

  func startWorker(_ i: Int) throws -> ProcessHandle {
    let s = slot(i)
    // 2 until the initializer has run (the worker then writes 0): not a
    // task (a dead worker's chunk is one whose state is 1), but work that
    // closing the pool waits for (SeeingBuiltins.childrenReport).
    if case .nil = initializer { mp_atomic_store(s, 0) } else { mp_atomic_store(s, 2) }
    let w = try Runtime.forkChild(name: "pool worker", interp) { [self] in
      PoolWorker(pool: self, index: i).run()
    }
    mp_atomic_store(s + 3, Int64(w.pid))
    return w
  }

  /// The workers' pids, as the arena has them (right in every process).
  var workerPids: [Int] { (0..<size).map { Int(mp_atomic_load(slot($0) + 3)) } }

  public override var typeName: String { "pool" }
  public override var repr: String { "<pool \(size) workers\(isClosed ? " closed" : "")>" }
  public override var memberNames: [String] {
    ["map", "starmap", "apply", "map_unordered", "size", "workers", "close",
     "apply_async", "map_async", "starmap_async", "imap", "imap_unordered"]
  }

  public override func member(_ name: String) throws -> Value? {
    switch name {
    case "size": return .int(size)
    case "workers": return .list(ListRef(workerPids.map { .int($0) }))
    default: return nil
    }
  }

  public override func callMethod(_ name: String, _ args: [Value], _ interp: Interpreter) throws -> Value? {
    func need(_ lo: Int, _ hi: Int) throws {
      if args.count < lo || args.count > hi {
        throw MPError(.type, "\(name)() takes \(lo == hi ? "\(lo)" : "\(lo) to \(hi)") arguments, got \(args.count)")
      }
    }
    if let r = try callAsyncMethod(name, args, interp) { return r }
    switch name {
    case "map", "map_unordered", "starmap":
      try need(2, 3)
      var chunk: Int? = nil
      if args.count == 3 {
        guard case .int(let c) = args[2], c >= 1 else {
          throw MPError(.type, "\(name)() chunk size must be an int >= 1, found \(args[2].repr)")
        }
        chunk = c
      }
      let items = try interp.iterate(args[1])
      let mode: PoolWorker.Mode = name == "starmap" ? .star : .single
      return .list(ListRef(try run(args[0], items, mode: mode, chunk: chunk, ordered: name != "map_unordered")))
    case "apply":
      try need(1, 64)
      let r = try run(args[0], [.list(ListRef(Array(args.dropFirst())))], mode: .star, chunk: 1, ordered: true)
      return r.first ?? .nil
    case "close":
      try need(0, 0)
      guard isOwner else {
        throw MPError(.process, "only process \(owner), which made this pool, can close it")
      }
      close()
      return .nil
    default: return nil
    }
  }

  public override func enter(_ interp: Interpreter) throws -> Value? { .object(self) }
  public override func exit(_ interp: Interpreter) throws { close() }
  public override func exitAfterError(_ interp: Interpreter) {
    guard !isClosed, isOwner else { return }
    shutdown(kill: true)
  }

  /// The function and the globals it needs, encoded once per call.
  func bundle(_ f: Value) throws -> [UInt8] {
    guard case .function(let c) = f else {
      if case .builtin = f { return try Codec.encode(.list(ListRef([f, .str(""), .map(MapRef())])), pinned: true) }
      throw MPError(.type, "a pool needs a function to run, found \(f.typeName)")
    }
    let globals = MapRef()
    var seen = Set<Int>()
    func visit(_ c: Closure) {
      guard seen.insert(c.proto.uid).inserted else { return }
      for cell in c.cells { if case .function(let g) = cell.value { visit(g) } }
      for name in c.proto.globalNames {
        guard let v = c.proto.module.get(name), globals[.str(name)] == nil else { continue }
        // One rule for every kind of value: a worker keeps the globals it
        // has and takes only the ones it lacks (those defined after the
        // pool was made); the ones it surely has are not sent.
        if c.proto.module === interp.main && globalsAtFork.contains(name) {
          if case .function(let g) = v { visit(g) }
          continue
        }
        if case .object(let o) = v, !(o is Codec.Transferable) { continue }
        globals[.str(name)] = v
        if case .function(let g) = v { visit(g) }
      }
    }
    visit(c)
    // Pinned: the caller holds f (and so its handles) until the call ends.
    return try Codec.encode(.list(ListRef([f, .str(c.proto.module.file), .map(globals)])), pinned: true)
  }

  func run(_ f: Value, _ items: [Value], mode: PoolWorker.Mode, chunk: Int?, ordered: Bool) throws -> [Value] {
    if isClosed || mp_atomic_load(closedFlag) != 0 { throw MPError(.closed, "this pool is closed") }
    if items.isEmpty { return [] }
    replacements = 0
    // Workers that died since the last call (perhaps during another
    // process's call) are replaced before new work goes out.
    if isOwner { try checkWorkers(job: -1, starts: [], items: [], chunkSize: 0, done: []) }
    let fn = try bundle(f)
    // Unique in the whole program: workers cache the function per job.
    let job = Arena.shared.nextId()
    let reply = try QueueHandle(maxsize: 0)
    reply.mark(.poolResults)
    WaitGraph.poolQueues[reply.offset] = .results
    // Closed when the call ends, however: workers skip the chunks of a
    // closed reply queue, so a failed call leaves no work behind.
    defer {
      reply.close()
      WaitGraph.poolQueues[reply.offset] = nil
    }
    let (starts, size) = try putChunks(job: job, fn: fn, mode: mode, reply: reply, items: items, chunk: chunk)
    var chunks = [[Value]?](repeating: nil, count: starts.count)
    var done = [Bool](repeating: false, count: starts.count)
    var unordered: [Value] = []
    var outstanding = starts.count
    let site = interp.callSite
    // The reply queue is polled with a timeout only to notice dead workers:
    // for deadlock detection this is a wait without one.
    ProcessTable.beginPolling()
    defer { ProcessTable.endPolling() }
    func take(_ bytes: [UInt8]) throws {
      var d = Codec.Decoder(bytes)
      guard try d.varint() == job else { return }
      let index = try d.varint()
      guard index < chunks.count, !done[index] else { throw MPError(.process, "corrupt pool result") }
      if try d.byte() == 0 {
        guard case .list(let l) = try d.value() else { throw MPError(.process, "corrupt pool result") }
        if ordered { chunks[index] = l.items } else { unordered.append(contentsOf: l.items) }
        done[index] = true
        outstanding -= 1
      } else {
        let k = try d.varint()
        let pid = try d.varint()
        let inner = try ChildOutcome.decodeError(bytes[d.pos...])
        let itemIndex = starts[index] + k
        let item = itemIndex < items.count ? items[itemIndex].repr : "?"
        let at = (inner.loc.flatMap { $0.line > 0 ? $0 : nil } ?? (site.line > 0 ? site : nil)).map { " (at \($0))" } ?? ""
        var e = MPError(.process, "pool worker \(pid) failed on item \(itemIndex) (\(item.count > 60 ? String(item.prefix(57)) + "..." : item)): \(inner.message)\(at)")
        e.trace = inner.trace
        e.value = Interpreter.errorValue(inner)
        throw e
      }
    }
    do {
      while outstanding > 0 {
        do {
          try take(try reply.getBytes(timeout: 0.1))
        } catch let e as MPError where e.kind == .timeout {
          // A worker that died after sending its result is no failure:
          // take every result already sent before looking at the dead.
          while outstanding > 0, let more = try? reply.getBytes(timeout: 0) { try take(more) }
          if outstanding > 0 { try checkWorkers(job: job, starts: starts, items: items, chunkSize: size, done: done) }
        }
      }
    } catch let e as MPError {
      if e.kind == .interrupt && isOwner {
        // Ctrl-C stops the call: the workers go, new ones replace them.
        for w in workers { Glibc.kill(w.pid, SIGKILL) }
        respawnDead()
      }
      throw e
    }
    return ordered ? chunks.flatMap { $0 ?? [] } : unordered
  }

  /// Puts a call's items on the task queue in chunks (Python's rule when
  /// no chunk size is given: about four chunks per worker). Returns where
  /// each chunk starts and the chunk size. The message's layout is read
  /// back by PoolWorker (`peek`, `run`).
  func putChunks(job: Int, fn: [UInt8], mode: PoolWorker.Mode, reply: QueueHandle, items: [Value],
                 chunk: Int?) throws -> (starts: [Int], size: Int) {
    let size = chunk ?? max(1, (items.count + 4 * self.size - 1) / (4 * self.size))
    var starts: [Int] = []
    var i = 0
    while i < items.count {
      starts.append(i)
      var e = Codec.Encoder()
      e.byte(1)
      e.varint(job)
      e.varint(fn.count)
      e.bytes.append(contentsOf: fn)
      e.varint(starts.count - 1)
      e.varint(i)
      e.byte(mode.rawValue)
      // The reply queue by weak reference (SharedHandle.strong): the call
      // holds it; a worker takes its own count as it takes the chunk, and
      // skips the chunk if the call has ended and the queue has gone.
      let weak = reply.weakReference
      e.varint(weak.offset)
      e.varint(weak.number)
      // Its handles listed up front: see QueueHandle.carriedCounts.
      try e.countedValue(.list(ListRef(Array(items[i..<min(i + size, items.count)]))))
      try tasks.putEncoded(e, timeout: nil)
      i += size
    }
    return (starts, size)
  }

  /// A worker that died (killed, crashed) is replaced; if it was running
  /// part of this call, the call fails instead of waiting forever.
  func checkWorkers(job: Int, starts: [Int], items: [Value], chunkSize: Int, done: [Bool]) throws {
    func what(_ chunk: Int) -> String {
      let a = starts[chunk], b = min(a + chunkSize, items.count) - 1
      return b > a ? "items \(a)-\(b)" : "item \(a)"
    }
    guard isOwner else {
      // Not our children: we cannot wait for them or replace them, only see
      // that they are gone.
      var gone = 0
      for i in 0..<size {
        let s = slot(i)
        let pid = pid_t(truncatingIfNeeded: mp_atomic_load(s + 3))
        guard pid > 0, PoolHandle.isGone(pid) else { continue }
        gone += 1
        let chunk = Int(mp_atomic_load(s + 2))
        if mp_atomic_load(s) == 1 && mp_atomic_load(s + 1) == Int64(job) && chunk < starts.count && !done[chunk] {
          throw MPError(.process, "pool worker \(pid) died while running \(what(chunk)) (process \(owner), which made the pool, replaces it when it next uses the pool)")
        }
      }
      if gone == size {
        throw MPError(.process, "every worker of this pool is dead (process \(owner), which made the pool, replaces them when it next uses it, unless it has closed it or ended)")
      }
      return
    }
    Runtime.reapAny()
    for (i, w) in workers.enumerated() {
      Runtime.poll(w)
      guard let st = w.status else { continue }
      let s = slot(i)
      let running = mp_atomic_load(s) == 1 && mp_atomic_load(s + 1) == Int64(job)
      let chunk = Int(mp_atomic_load(s + 2))
      let how = mp_wifsignaled(st) != 0 ? "was killed by \(Runtime.signalName(mp_wtermsig(st)))" : "exited with status \(mp_wexitstatus(st))"
      forget(w)
      replacements += 1
      if replacements > 3 * size {
        throw MPError(.process, "pool workers keep dying (\(replacements) replaced during this call; the last one \(how))")
      }
      workers[i] = try startWorker(i)
      if running && chunk < starts.count && !done[chunk] {
        throw MPError(.process, "pool worker \(w.pid) \(how) while running \(what(chunk)) (a new worker took its place)")
      }
    }
  }

  /// Whether process `pid` has ended (gone, or a zombie not yet reaped).
  static func isGone(_ pid: pid_t) -> Bool {
    if Glibc.kill(pid, 0) != 0 { return errno == ESRCH }
    guard let stat = Interpreter.readFile("/proc/\(pid)/stat"), let close = stat.lastIndex(of: ")") else { return false }
    let state = stat[stat.index(after: close)...].drop(while: { $0 == " " }).first
    return state == "Z" || state == "X"
  }

  func respawnDead() {
    for (i, w) in workers.enumerated() {
      reapBlocking(w)
      forget(w)
      if let n = try? startWorker(i) { workers[i] = n }
    }
  }

  /// Waits for a worker that is ending (told to stop, or killed); a
  /// worker's pipe carries nothing, so it is not read.
  func reapBlocking(_ w: ProcessHandle) {
    while w.status == nil { Runtime.reap(w, blocking: true) }
  }

  /// Drops a reaped worker from this process's children.
  func forget(_ w: ProcessHandle) {
    if w.fd >= 0 {
      Glibc.close(w.fd)
      w.fd = -1
    }
    Runtime.children.removeAll { $0 === w }
  }

  /// Lets the workers finish what is queued, stops them and reaps them.
  public func close() {
    guard !isClosed, isOwner else { return }
    shutdown(kill: false)
  }

  func shutdown(kill: Bool) {
    isClosed = true
    mp_atomic_store(closedFlag, 1)
    PoolHandle.open[ObjectIdentifier(self)] = nil
    WaitGraph.poolQueues[tasks.offset] = nil
    if !kill {
      for _ in workers { try? tasks.putBytes([0], timeout: nil) }
    }
    for w in workers {
      if kill { Glibc.kill(w.pid, SIGKILL) }
      // Waiting for a worker's last task (or its initializer) is a wait
      // like any other: Ctrl-C ends it by killing the workers, and the
      // flag stays set for the caller's next check (the end of a script
      // then exits 130). wait4 returns EINTR on SIGINT (no SA_RESTART).
      while w.status == nil {
        if mp_interrupt_flag != 0 {
          for v in workers where v.status == nil { Glibc.kill(v.pid, SIGKILL) }
        }
        Runtime.reap(w, blocking: true)
      }
      forget(w)
    }
    workers = []
    // Chunks nobody will take still hold counts on the handles their items
    // carry: decoding them gives those back.
    while let bytes = try? tasks.getBytes(timeout: 0) { PoolWorker.dropTask(bytes) }
  }

  /// The end of the program closes pools nobody closed.
  static func closeAll() {
    for p in open.values { p.close() }
  }

  static func closeAllByKilling() {
    for p in open.values where !p.isClosed { p.shutdown(kill: true) }
  }
}

/// A pool's shared words in the arena: the closed flag, then per worker
/// its state, job, chunk and pid. Counted like every arena object, so a
/// pool made and dropped at the REPL gives its space back.
final class PoolStateHandle: SharedHandle {
  override class var kind: UInt8 { 11 }

  init(workers n: Int) throws {
    try super.init(newWithPayload: 16 + 32 * n, kind: PoolStateHandle.kind)
  }

  override init(existing offset: Int) { super.init(existing: offset) }

  override var typeName: String { "pool state" }
  override var repr: String { "<pool state \(number)>" }
}
