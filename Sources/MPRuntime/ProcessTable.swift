import CMPShim
import Glibc
import MPLanguage

/// The program's processes, in the arena so every process can see every
/// other: who is alive, what each is running, and what it waits on. `ps()`
/// and deadlock detection read it; `MP_MAX_PROCS` is checked against it;
/// every change of what a process waits on is also a trace event.
public enum ProcessTable {
  /// What a process is doing, as stored in its entry.
  public enum State: Int32 {
    case free = 0, running = 1, waiting = 2, exited = 3
  }

  /// What a waiting process waits on. New kinds go at the end; who can
  /// wake each kind is said in `WaitGraph.wakers` (a kind it does not name
  /// can be woken by any process that still runs).
  public enum WaitKind: Int32, CaseIterable {
    case none = 0, lock, semaphore, queueGet, queuePut, join, sleep
    case event, condition, barrier, pipeRecv, poolResult
    public var text: String {
      switch self {
      case .none: return ""
      case .lock: return "lock"
      case .semaphore: return "semaphore"
      case .queueGet: return "get on queue"
      case .queuePut: return "put on queue"
      case .join: return "join of process"
      case .sleep: return "sleep"
      case .event: return "event"
      case .condition: return "condition"
      case .barrier: return "barrier"
      case .pipeRecv: return "recv on pipe"
      case .poolResult: return "pool result"
      }
    }
  }

  // Entry layout (bytes).
  static let pidOff = 0, stateOff = 4, ppidOff = 8, waitKindOff = 12, waitTargetOff = 16, startOff = 24
  static let nameOff = 40, nameLen = 64
  /// The process's ProcessRefs record (Int64); its wait status once reaped
  /// (Int32); a number unique to this registration (Int32), so a process
  /// value never reads a later process that reused the pid.
  static let refsOff = 104, statusOff = 112, serialOff = 116
  /// Whether the wait has a timeout (Int32 flags); a count of changes of
  /// what the process waits on (Int32), so two looks at the table can tell
  /// "still the same wait" from "woke and waits again"; when the current
  /// wait began (Double).
  static let flagsOff = 32, seqOff = 36, sinceOff = 120
  static let timedFlag: Int32 = 1

  static func entry(_ i: Int) -> UnsafeMutableRawPointer {
    Arena.shared.at(Arena.procTableOffset + i * Arena.procEntrySize)
  }

  static func i32(_ e: UnsafeMutableRawPointer, _ off: Int) -> UnsafeMutablePointer<Int32> {
    (e + off).assumingMemoryBound(to: Int32.self)
  }

  /// Where this process's next look for a free entry starts.
  @exclusivity(unchecked) nonisolated(unsafe) static var nextHint = 0
  @exclusivity(unchecked) nonisolated(unsafe) static var tableFilled = false
  /// This process's entry (set when it registers).
  nonisolated(unsafe) static var mySlot = -1
  /// What this process last recorded, kept here so that re-entering the
  /// same wait (a wait in slices) costs nothing and is not a new wait.
  nonisolated(unsafe) static var myKind = WaitKind.none
  nonisolated(unsafe) static var myTarget = 0
  nonisolated(unsafe) static var myTimed = false
  /// Whether the entry shows what this process last recorded (a child may
  /// start waiting before its parent has registered it).
  nonisolated(unsafe) static var published = true
  /// Above zero while this process waits in timed slices for something it
  /// would otherwise wait for forever (a pool call polls its reply queue so
  /// it can notice dead workers): such a wait is recorded as untimed.
  @exclusivity(unchecked) nonisolated(unsafe) public static var untimedPolling = 0
  /// Changes whenever this process begins or ends a wait (a polled wait is
  /// one wait from its start to its end, whatever its slices do): a
  /// deadlock is confirmed only by looks inside one wait
  /// (Deadlock.Confirmation).
  @exclusivity(unchecked) nonisolated(unsafe) static var waitEpoch = 0

  /// A wait polled in timed slices begins (see `untimedPolling`).
  static func beginPolling() {
    untimedPolling += 1
    waitEpoch &+= 1
  }

  static func endPolling() {
    untimedPolling -= 1
    waitEpoch &+= 1
  }

  /// Claims an entry for `pid`; returns its index, or -1 if the table is
  /// full. Entries of reaped processes are reused once no free one is left.
  @discardableResult
  static func register(pid: Int32, ppid: Int32, name: String, refs: Int = 0, serial: Int = 0) -> Int {
    for pass in (tableFilled ? 1 : 0)..<2 {
      // From where this process last found one: entries are claimed in
      // order, and a scan from 0 tried every claimed one (all 2,048, each
      // an atomic compare-and-swap, once the table had filled).
      for k in 0..<Arena.procCapacity {
        let i = (k + nextHint) % Arena.procCapacity
        let e = entry(i)
        let claimed = pass == 0
          ? mp_atomic_cas32(i32(e, pidOff), 0, pid) != 0
          : mp_atomic_cas32(i32(e, stateOff), State.exited.rawValue, State.running.rawValue) != 0
        guard claimed else { continue }
        mp_atomic_store32(i32(e, pidOff), pid)
        (e + refsOff).storeBytes(of: Int64(refs), as: Int64.self)
        i32(e, statusOff).pointee = 0
        i32(e, serialOff).pointee = Int32(truncatingIfNeeded: serial)
        i32(e, ppidOff).pointee = ppid
        i32(e, waitKindOff).pointee = 0
        i32(e, flagsOff).pointee = 0
        mp_atomic_add32(i32(e, seqOff), 1)
        (e + waitTargetOff).storeBytes(of: Int64(0), as: Int64.self)
        (e + startOff).storeBytes(of: mp_now(), as: Double.self)
        (e + sinceOff).storeBytes(of: 0.0, as: Double.self)
        // Copied in place (an array for it was a heap page written per spawn).
        let dst = (e + nameOff).assumingMemoryBound(to: UInt8.self)
        var n = 0
        for b in name.utf8 where n < nameLen - 1 {
          dst[n] = b
          n += 1
        }
        dst[n] = 0
        mp_atomic_store32(i32(e, stateOff), State.running.rawValue)
        if Trace.isOn { Trace.recordStart(pid: pid, ppid: ppid, name: name) }
        nextHint = i + 1
        return i
      }
      // No entry is ever made unused again: once none is left, none will be.
      if pass == 0 { tableFilled = true }
    }
    return -1
  }

  /// The entry of the live process `pid` (one that has not been reaped).
  static func slot(of pid: Int32) -> Int? {
    // Backwards from this process's last claim: the child being reaped is
    // most often the one registered last.
    let n = Arena.procCapacity
    for k in 0..<n {
      let i = (nextHint - 1 - k + 2 * n) % n
      guard mp_atomic_load32(i32(entry(i), pidOff)) == pid else { continue }
      let st = mp_atomic_load32(i32(entry(i), stateOff))
      if st != State.exited.rawValue && st != State.free.rawValue { return i }
    }
    return nil
  }

  /// A process ended and was reaped: give back what it held (its
  /// references to shared objects, locks included), keep its exit status
  /// for process values in other processes, and free its place for a
  /// later process. Called once, by whoever reaped it.
  static func ended(pid: Int32, status: Int32) {
    guard let i = slot(of: pid) else { return }
    let e = entry(i)
    let refs = Int((e + refsOff).load(as: Int64.self))
    (e + refsOff).storeBytes(of: Int64(0), as: Int64.self)
    if refs != 0 { ProcessRefs.releaseAll(refs) }
    i32(e, statusOff).pointee = status
    i32(e, waitKindOff).pointee = 0
    mp_atomic_add32(i32(e, seqOff), 1)
    mp_atomic_store32(i32(e, stateOff), State.exited.rawValue)
  }

  /// What the table knows of the process registered as `pid` with
  /// `serial`: nil if its entry has been reused since; else whether it has
  /// ended, and its wait status if so.
  static func lookup(pid: Int32, serial: Int) -> (ended: Bool, status: Int32)? {
    let want = Int32(truncatingIfNeeded: serial)
    for i in 0..<Arena.procCapacity {
      let e = entry(i)
      guard mp_atomic_load32(i32(e, pidOff)) == pid, i32(e, serialOff).pointee == want else { continue }
      let st = mp_atomic_load32(i32(e, stateOff))
      if st == State.free.rawValue { continue }
      return (st == State.exited.rawValue, i32(e, statusOff).pointee)
    }
    return nil
  }

  /// In a new child: nothing recorded yet (the parent's waits are not its).
  static func forget() {
    mySlot = -1
    myKind = .none
    myTarget = 0
    myTimed = false
    if !published { published = true }
    if untimedPolling != 0 { untimedPolling = 0 }
  }

  /// In a new child: waits (briefly) until the parent has registered it.
  static func awaitRegistration() {
    let deadline = mp_now() + 0.5
    while mySlot < 0 {
      mySlot = slot(of: Runtime.myPid) ?? -1
      if mySlot >= 0 || mp_now() > deadline { return }
      sched_yield()
    }
  }

  /// Records what this process is about to wait on (`.none`: it runs
  /// again). `timed`: the wait ends by itself, so it never counts towards a
  /// deadlock. Calling it again with the same wait changes nothing.
  public static func setWaiting(_ kind: WaitKind, target: Int = 0, timed: Bool = false) {
    let timed = timed && untimedPolling == 0
    if kind == myKind && target == myTarget && timed == myTimed && published { return }
    if kind != myKind && untimedPolling == 0 { waitEpoch &+= 1 }
    if Trace.isOn {
      if myKind != .none { Trace.record(.waitEnd, object: Trace.objectNumber(myKind, myTarget), arg: Int(myKind.rawValue)) }
      if kind != .none { Trace.record(.waitBegin, object: Trace.objectNumber(kind, target), arg: Int(kind.rawValue)) }
    }
    myKind = kind
    myTarget = target
    myTimed = timed
    publish()
  }

  /// Writes what this process waits on into its entry.
  static func publish() {
    if mySlot < 0 { mySlot = slot(of: Runtime.myPid) ?? -1 }
    guard mySlot >= 0 else {
      published = false
      return
    }
    // Written only when it changes: a page the parent writes after a fork
    // is a copy-on-write fault (join publishes twice per child).
    if !published { published = true }
    let e = entry(mySlot)
    (e + waitTargetOff).storeBytes(of: Int64(myTarget), as: Int64.self)
    i32(e, flagsOff).pointee = myTimed ? timedFlag : 0
    i32(e, waitKindOff).pointee = myKind.rawValue
    if myKind != .none { (e + sinceOff).storeBytes(of: mp_now(), as: Double.self) }
    mp_atomic_add32(i32(e, seqOff), 1)
    mp_atomic_store32(i32(e, stateOff), myKind == .none ? State.running.rawValue : State.waiting.rawValue)
  }

  /// This process runs again (cheap when it was not waiting).
  @inline(__always)
  public static func clearWaiting() {
    if myKind != .none { setWaiting(.none) }
  }

  /// Called by every blocking wait between two slices (about ten times a
  /// second): in the main process, this is where a deadlock of the whole
  /// program is noticed and raised.
  public static func waitSlice() throws {
    // A child that began to wait before its parent registered it.
    if !published { publish() }
    // A joined child still leaving shows as running until it is reaped.
    if !Runtime.leaving.isEmpty { Runtime.reapAny() }
    guard !Runtime.isChild, myKind != .none, !myTimed else { return }
    try Deadlock.check()
  }

  /// A snapshot of one entry.
  public struct Info {
    public var pid: Int32
    public var ppid: Int32
    public var state: State
    public var waitKind: WaitKind
    public var waitTarget: Int
    public var age: Double
    public var name: String
    /// The wait has a timeout.
    public var timed: Bool = false
    /// Changes whenever what the process waits on changes.
    public var seq: Int32 = 0
    /// Seconds since the current wait began.
    public var waitingFor: Double = 0
  }

  /// The live processes (not yet reaped).
  public static func snapshot() -> [Info] {
    var out: [Info] = []
    let now = mp_now()
    for i in 0..<Arena.procCapacity {
      let e = entry(i)
      let pid = mp_atomic_load32(i32(e, pidOff))
      guard pid > 0 else { continue }
      let seq = mp_atomic_load32(i32(e, seqOff))
      let state = State(rawValue: mp_atomic_load32(i32(e, stateOff))) ?? .running
      guard state != .free, state != .exited else { continue }
      let name = String(cString: (e + nameOff).assumingMemoryBound(to: CChar.self))
      let kind = state == .waiting ? WaitKind(rawValue: i32(e, waitKindOff).pointee) ?? .none : .none
      out.append(Info(pid: pid, ppid: i32(e, ppidOff).pointee, state: state,
                      waitKind: kind,
                      waitTarget: Int((e + waitTargetOff).load(as: Int64.self)),
                      age: now - (e + startOff).load(as: Double.self), name: name,
                      timed: i32(e, flagsOff).pointee & timedFlag != 0, seq: seq,
                      waitingFor: now - (e + sinceOff).load(as: Double.self)))
    }
    return out
  }

  /// Whether `pid` is a process of this program.
  public static func contains(_ pid: Int32) -> Bool { slot(of: pid) != nil }

  /// Live processes other than the main one (exited-but-unreaped ones count).
  public static var liveChildren: Int {
    Int(mp_atomic_load(Arena.shared.word(Arena.liveOffset)))
  }
}
