import CMPShim
import Glibc
import MPLanguage

/// The trace ring (docs/reference.md, "Tracing"): every process of the
/// program records fixed-size events — monotonic time, pid, kind, object —
/// into shared memory mapped before the first fork, so a process forked
/// before tracing was switched on (a pool worker, a background child at the
/// REPL) records too. Each process-table slot has a ring of its own, written
/// only by the process in that slot: recording takes no lock and no atomic
/// read-modify-write, which is what keeps it cheap enough to leave on. A
/// full ring overwrites its oldest events.
public enum Trace {
  /// What happened. Raw values are stored in the ring.
  public enum Kind: UInt16, Sendable {
    case processStart = 1  // object: parent pid; the name follows in `name` records
    case name = 2  // 16 bytes of the name of the process in `pid`, in object and arg
    case processEnd = 3  // arg: exit status
    case spawn = 4  // object: the child's pid
    case reaped = 5  // object: the child's pid; arg: its exit code (minus the signal)
    case waitBegin = 6  // object: lock/queue/... number or joined pid; arg: WaitKind
    case waitEnd = 7  // same object and arg as its waitBegin
    case lockAcquired = 8  // object: the lock's number
    case lockReleased = 9
    case taskStart = 10  // object: the item's index in its call; arg: the call's job id
    case taskEnd = 11
    case scriptEnd = 12  // the main script's last statement ran; mp now waits for the children
  }

  /// One event as read back.
  public struct Event: Equatable, Sendable {
    public var time: Double
    public var pid: Int32
    public var kind: Kind
    public var object: Int
    public var arg: Int
    /// For `processStart`: the process's function.
    public var name: String

    public init(_ time: Double, _ pid: Int32, _ kind: Kind, object: Int = 0, arg: Int = 0, name: String = "") {
      self.time = time
      self.pid = pid
      self.kind = kind
      self.object = object
      self.arg = arg
      self.name = name
    }
  }

  static let recordSize = 32
  static let ringCapacity = 4096  // events per slot (a power of two)
  static let slotHeader = 64
  static let slotBytes = slotHeader + recordSize * ringCapacity
  static let regionHeader = 4096
  // Region header: enabled flag (Int32 at 0), epoch (Double at 8).

  @exclusivity(unchecked) nonisolated(unsafe) static var region: UnsafeMutableRawPointer? = nil

  /// Maps the (lazily touched) trace memory; called once before any fork.
  static func install() {
    let size = regionHeader + slotBytes * Arena.procCapacity
    let p = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
    if let p, p != MAP_FAILED { region = p }
  }

  static var flag: UnsafeMutablePointer<Int32>? { region?.assumingMemoryBound(to: Int32.self) }

  /// Whether events are being recorded (in any process of the program).
  @inline(__always)
  public static var isOn: Bool {
    guard let f = flag else { return false }
    return mp_atomic_load32(f) != 0
  }

  /// When the current recording began.
  public static var epoch: Double { region?.load(fromByteOffset: 8, as: Double.self) ?? 0 }

  /// Appends an event to this process's ring.
  static func record(_ kind: Kind, pid: Int32 = Runtime.myPid, object: Int = 0, arg: Int = 0) {
    guard let region else { return }
    if ProcessTable.mySlot < 0 { ProcessTable.mySlot = ProcessTable.slot(of: Runtime.myPid) ?? -1 }
    let slot = ProcessTable.mySlot
    guard slot >= 0 else { return }
    let ring = region + regionHeader + slot * slotBytes
    let head = ring.assumingMemoryBound(to: Int64.self)
    let n = Int(head.pointee)
    let r = ring + slotHeader + (n & (ringCapacity - 1)) * recordSize
    r.storeBytes(of: mp_now(), as: Double.self)
    r.storeBytes(of: pid, toByteOffset: 8, as: Int32.self)
    r.storeBytes(of: kind.rawValue, toByteOffset: 12, as: UInt16.self)
    r.storeBytes(of: Int64(object), toByteOffset: 16, as: Int64.self)
    r.storeBytes(of: Int64(arg), toByteOffset: 24, as: Int64.self)
    // Published after the record: a reader never sees a half-written one.
    mp_atomic_store(head, Int64(n + 1))
  }

  /// A process's start and its name, 16 bytes of name per extra record.
  static func recordStart(pid: Int32, ppid: Int32, name: String) {
    record(.processStart, pid: pid, object: Int(ppid))
    let bytes = Array(name.utf8.prefix(32))
    var i = 0
    repeat {
      var chunk = [UInt8](repeating: 0, count: 16)
      for k in 0..<16 where i + k < bytes.count { chunk[k] = bytes[i + k] }
      let a = chunk.withUnsafeBytes { $0.load(as: Int64.self) }
      let b = chunk.withUnsafeBytes { $0.load(fromByteOffset: 8, as: Int64.self) }
      record(.name, pid: pid, object: Int(a), arg: Int(b))
      i += 16
    } while i < bytes.count
  }

  /// The number a user sees for the object of a wait (`lock 3`), or the
  /// pid for a join.
  static func objectNumber(_ kind: ProcessTable.WaitKind, _ target: Int) -> Int {
    switch kind {
    case .join, .sleep, .none: return target
    default: return WaitGraph.handleNumber(target) ?? target
    }
  }

  /// Starts a recording: every process of the program records from now on.
  /// The processes already alive are entered as starting now.
  public static func begin() {
    guard let region else { return }
    // Children that ended unnoticed are not part of what is recorded.
    Runtime.reapFinished()
    region.storeBytes(of: mp_now(), toByteOffset: 8, as: Double.self)
    mp_atomic_store32(region.assumingMemoryBound(to: Int32.self), 1)
    for p in ProcessTable.snapshot() where p.state != .exited {
      recordStart(pid: p.pid, ppid: p.ppid, name: p.pid == Runtime.myPid && !Runtime.isChild ? "main" : p.name)
      if p.pid != Runtime.myPid && p.state == .waiting {
        record(.waitBegin, pid: p.pid, object: objectNumber(p.waitKind, p.waitTarget), arg: Int(p.waitKind.rawValue))
      }
    }
  }

  /// Stops recording and returns the events since `begin`, in time order.
  public static func end() -> [Event] {
    guard let region else { return [] }
    mp_atomic_store32(region.assumingMemoryBound(to: Int32.self), 0)
    return collect(since: epoch)
  }

  /// Every event recorded since `since`, in time order, with the `name`
  /// records folded into their `processStart`.
  static func collect(since: Double) -> [Event] {
    guard let region else { return [] }
    var raw: [Event] = []
    var names: [Int32: [UInt8]] = [:]
    for slot in 0..<Arena.procCapacity {
      let ring = region + regionHeader + slot * slotBytes
      let head = Int(mp_atomic_load(ring.assumingMemoryBound(to: Int64.self)))
      guard head > 0 else { continue }
      for n in max(0, head - ringCapacity)..<head {
        let r = ring + slotHeader + (n & (ringCapacity - 1)) * recordSize
        let t = r.load(as: Double.self)
        guard t >= since, let kind = Kind(rawValue: r.load(fromByteOffset: 12, as: UInt16.self)) else { continue }
        let pid = r.load(fromByteOffset: 8, as: Int32.self)
        let object = Int(r.load(fromByteOffset: 16, as: Int64.self))
        let arg = Int(r.load(fromByteOffset: 24, as: Int64.self))
        if kind == .name {
          var a = Int64(object), b = Int64(arg)
          withUnsafeBytes(of: &a) { names[pid, default: []].append(contentsOf: $0) }
          withUnsafeBytes(of: &b) { names[pid, default: []].append(contentsOf: $0) }
          continue
        }
        raw.append(Event(t, pid, kind, object: object, arg: arg))
      }
    }
    raw.sort { $0.time < $1.time }
    for i in raw.indices where raw[i].kind == .processStart {
      if let bytes = names[raw[i].pid] {
        raw[i].name = String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
      }
    }
    return raw
  }
}
