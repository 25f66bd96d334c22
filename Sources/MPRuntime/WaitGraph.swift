import CMPShim
import Glibc
import MPLanguage

/// Who waits for whom (docs/reference.md, "Deadlock detection"). Each
/// waiting process is an edge of the wait-for graph: to one process that
/// alone can wake it (the holder of a lock, the child being joined), or to
/// "anyone still running" (a queue, a semaphore, an event: any process
/// could put, release or set). A wait whose condition already holds (the
/// queue has an item, the lock is free) is no edge: the process is about to
/// move on.
public enum WaitGraph {
  public enum Wakers: Equatable {
    /// Its condition already holds, or it ends by itself.
    case proceeds
    /// Only this process can wake it (by releasing, or by ending).
    case process(Int32)
    /// Any process that still runs could wake it.
    case anyone
  }

  /// Who can wake `w`, read from the shared objects it waits on. A kind
  /// this switch does not name (events, conditions, barriers, pipes) can be
  /// woken by anyone; a primitive whose waiter needs one particular process
  /// adds a case here.
  static func wakers(_ w: ProcessTable.Info) -> Wakers {
    switch w.waitKind {
    case .none, .sleep: return .proceeds
    case .lock:
      guard let p = payload(w.waitTarget) else { return .proceeds }
      let owner = mp_atomic_load32((p + LockHandle.ownerOff).assumingMemoryBound(to: Int32.self))
      return owner == 0 ? .proceeds : .process(owner)
    case .semaphore:
      guard let v = semaphoreValue(w.waitTarget) else { return .proceeds }
      return v > 0 ? .proceeds : .anyone
    case .queueGet:
      guard let q = queueState(w.waitTarget) else { return .proceeds }
      return q.count > 0 || q.closed ? .proceeds : .anyone
    case .queuePut:
      guard let q = queueState(w.waitTarget) else { return .proceeds }
      return q.closed || q.max == 0 || q.count < q.max ? .proceeds : .anyone
    case .join:
      return .process(Int32(truncatingIfNeeded: w.waitTarget))
    case .event:
      // Set: the waiter returns at its next look, however long it takes
      // to be scheduled (its entry says "waiting" until then).
      guard let p = payload(w.waitTarget) else { return .proceeds }
      let flag = mp_atomic_load32((p + EventHandle.flagOff).assumingMemoryBound(to: Int32.self))
      return flag != 0 ? .proceeds : .anyone
    case .barrier:
      // A waiter of the current round has its pid among the round's
      // arrivals; one that is not was let go (or the barrier broke) and
      // only has not run since.
      guard let p = payload(w.waitTarget) else { return .proceeds }
      let state = mp_atomic_load((p + BarrierHandle.stateOff).assumingMemoryBound(to: Int64.self))
      if state & BarrierHandle.brokenBit != 0 { return .proceeds }
      let parties = Int((p + BarrierHandle.partiesOff).load(as: Int32.self))
      let arrived = min(Int(state & BarrierHandle.countMask), parties)
      let pids = (p + BarrierHandle.pidsOff).assumingMemoryBound(to: Int32.self)
      for i in 0..<arrived where mp_atomic_load32(pids + i) == w.pid { return .anyone }
      return .proceeds
    default:
      return .anyone
    }
  }

  /// A pool's own queues, by arena offset, with what waiting on them means
  /// to a user, who never made them and would not know a "queue 7": the
  /// pool's task queue and each call's reply queue. Kept by the process
  /// that made them (the pool's owner, the caller), which is where a
  /// deadlock report or its `ps()` is made; elsewhere they read as queues.
  /// Made at start-up and unchecked: every child looks at it (Runtime.swift).
  @exclusivity(unchecked) nonisolated(unsafe) static var poolQueues: [Int: PoolQueue] = [:]

  enum PoolQueue {
    case tasks, results
  }

  /// The payload of the arena object at `offset`, if that is a plausible object.
  static func payload(_ offset: Int) -> UnsafeMutableRawPointer? {
    guard let a = Arena.shared, offset >= Arena.heapStart, offset + 256 < a.size else { return nil }
    return a.at(offset + SharedHandle.headerSize)
  }

  /// The number shown in `<lock 3>` for the object at `offset`.
  static func handleNumber(_ offset: Int) -> Int? {
    guard let a = Arena.shared, offset >= Arena.heapStart, offset + 16 < a.size else { return nil }
    return Int(a.at(offset).load(fromByteOffset: 12, as: Int32.self))
  }

  static func semaphoreValue(_ offset: Int) -> Int? {
    guard let p = payload(offset) else { return nil }
    var v: Int32 = 0
    sem_getvalue(p.assumingMemoryBound(to: sem_t.self), &v)
    return Int(v)
  }

  static func queueState(_ offset: Int) -> (count: Int, max: Int, closed: Bool)? {
    guard let p = payload(offset) else { return nil }
    let count = QueueHandle.itemCount(p)
    let max = Int((p + QueueHandle.maxOff).load(as: Int64.self))
    let closed = mp_atomic_load32((p + QueueHandle.closedOff).assumingMemoryBound(to: Int32.self)) != 0
    return (count, max, closed)
  }

  /// "lock 3 held by 1234 (worker)", "queue 2 (empty)", "join 1240": what
  /// `w` waits on, for `ps()`. Empty when it does not wait.
  static func describe(_ w: ProcessTable.Info, names: [Int32: String]) -> String {
    let n = Trace.objectNumber(w.waitKind, w.waitTarget)
    var text: String
    switch w.waitKind {
    case .none, .sleep: return ""
    case .lock:
      text = "lock \(n)"
      if case .process(let owner) = wakers(w) { text += " held by \(owner)\(names[owner].map { " (\($0))" } ?? "")" }
    case .semaphore:
      text = "semaphore \(n) (value \(semaphoreValue(w.waitTarget) ?? 0))"
    case .queueGet where poolQueues[w.waitTarget] == .tasks:
      text = "a task from its pool (none queued)"
    case .queueGet where poolQueues[w.waitTarget] == .results:
      text = "results of a pool call"
    case .queueGet, .queuePut:
      let q = queueState(w.waitTarget)
      let state = q.map { $0.closed ? "closed" : $0.count == 0 ? "empty" : $0.max > 0 && $0.count >= $0.max ? "full, \($0.count) items" : "\($0.count) item\($0.count == 1 ? "" : "s")" } ?? "?"
      text = "\(w.waitKind == .queueGet ? "get on" : "put on") queue \(n) (\(state))"
    case .join:
      text = "join \(w.waitTarget)\(names[Int32(truncatingIfNeeded: w.waitTarget)].map { " (\($0))" } ?? "")"
    default:
      text = "\(w.waitKind.text) \(n)"
    }
    if w.timed { text += ", with a timeout" }
    return text
  }

  /// The clause of a deadlock report for one process: "waits for lock 3
  /// held by pid 102 (philosopher)".
  static func clause(_ w: ProcessTable.Info, who: (Int32) -> String) -> String {
    let n = Trace.objectNumber(w.waitKind, w.waitTarget)
    switch w.waitKind {
    case .lock:
      if case .process(let owner) = wakers(w) { return "waits for lock \(n) held by \(who(owner))" }
      return "waits for lock \(n)"
    case .join: return "waits to join \(who(Int32(truncatingIfNeeded: w.waitTarget)))"
    case .queueGet where poolQueues[w.waitTarget] == .tasks:
      return "waits for a task from its pool, which has none queued"
    case .queueGet where poolQueues[w.waitTarget] == .results:
      return "waits for the results of a pool call"
    case .queueGet: return "waits to get from queue \(n), which is empty"
    case .queuePut: return "waits to put on queue \(n), which is full"
    case .semaphore: return "waits for semaphore \(n) (value 0)"
    default: return "waits on \(w.waitKind.text) \(n)"
    }
  }
}
