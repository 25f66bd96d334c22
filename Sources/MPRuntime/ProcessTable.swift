import CMPShim
import Glibc
import MPLanguage

/// The program's processes, in the arena so every process can see every
/// other: who is alive, what each is running, and what it waits on. `ps()`
/// and deadlock detection read it; `MP_MAX_PROCS` is checked against it.
public enum ProcessTable {
  /// What a process is doing, as stored in its entry.
  public enum State: Int32 {
    case free = 0, running = 1, waiting = 2, exited = 3
  }

  /// What a waiting process waits on.
  public enum WaitKind: Int32 {
    case none = 0, lock, semaphore, queueGet, queuePut, join, sleep
    case event, condition, barrier, pipeRecv, poolResult
    var text: String {
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

  static func entry(_ i: Int) -> UnsafeMutableRawPointer {
    Arena.shared.at(Arena.procTableOffset + i * Arena.procEntrySize)
  }

  static func i32(_ e: UnsafeMutableRawPointer, _ off: Int) -> UnsafeMutablePointer<Int32> {
    (e + off).assumingMemoryBound(to: Int32.self)
  }

  /// This process's entry (set when it registers).
  nonisolated(unsafe) static var mySlot = -1

  /// Claims an entry for `pid`; returns its index, or -1 if the table is
  /// full. Entries of reaped processes are reused once no free one is left.
  @discardableResult
  static func register(pid: Int32, ppid: Int32, name: String, refs: Int = 0, serial: Int = 0) -> Int {
    for pass in 0..<2 {
      for i in 0..<Arena.procCapacity {
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
        (e + waitTargetOff).storeBytes(of: Int64(0), as: Int64.self)
        (e + startOff).storeBytes(of: mp_now(), as: Double.self)
        var bytes = Array(name.utf8.prefix(nameLen - 1))
        bytes.append(0)
        bytes.withUnsafeBytes { (e + nameOff).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        mp_atomic_store32(i32(e, stateOff), State.running.rawValue)
        return i
      }
    }
    return -1
  }

  /// The entry of the live process `pid` (one that has not been reaped).
  static func slot(of pid: Int32) -> Int? {
    for i in 0..<Arena.procCapacity where mp_atomic_load32(i32(entry(i), pidOff)) == pid {
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

  /// Records what this process is about to wait on (nil: it runs again).
  public static func setWaiting(_ kind: WaitKind, target: Int = 0) {
    if mySlot < 0 { mySlot = slot(of: getpid()) ?? -1 }
    guard mySlot >= 0 else { return }
    let e = entry(mySlot)
    (e + waitTargetOff).storeBytes(of: Int64(target), as: Int64.self)
    i32(e, waitKindOff).pointee = kind.rawValue
    mp_atomic_store32(i32(e, stateOff), kind == .none ? State.running.rawValue : State.waiting.rawValue)
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
  }

  public static func snapshot() -> [Info] {
    var out: [Info] = []
    let now = mp_now()
    for i in 0..<Arena.procCapacity {
      let e = entry(i)
      let pid = mp_atomic_load32(i32(e, pidOff))
      guard pid != 0 else { continue }
      let state = State(rawValue: mp_atomic_load32(i32(e, stateOff))) ?? .running
      guard state != .free, state != .exited else { continue }
      let name = String(cString: (e + nameOff).assumingMemoryBound(to: CChar.self))
      out.append(Info(pid: pid, ppid: i32(e, ppidOff).pointee, state: state,
                      waitKind: WaitKind(rawValue: i32(e, waitKindOff).pointee) ?? .none,
                      waitTarget: Int((e + waitTargetOff).load(as: Int64.self)),
                      age: now - (e + startOff).load(as: Double.self), name: name))
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
