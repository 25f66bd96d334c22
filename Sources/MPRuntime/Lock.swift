import CMPShim
import Glibc
import MPLanguage

/// `lock()`: a non-reentrant mutex every process of the program can use.
/// It is a robust process-shared pthread mutex, so a holder that dies does
/// not wedge it: the next acquirer gets it and a warning names the dead one.
public final class LockHandle: SharedHandle {
  // Payload: mutex (48 bytes reserved), owner pid (Int32), the pid whose
  // name is written (Int32), owner name (32 bytes).
  static let ownerOff = 48, namedOff = 52, nameOff = 56, nameLen = 32
  static let payloadSize = 96
  public override class var kind: UInt8 { 1 }

  /// The payload's address: the arena is mapped at the same address in
  /// every process, so it is computed once, not at every acquire.
  @exclusivity(unchecked) private var base = UnsafeMutableRawPointer(bitPattern: 8)!

  init() throws {
    try super.init(newWithPayload: LockHandle.payloadSize, kind: LockHandle.kind)
    base = payload
    named.pointee = 0
    let rc = mp_mutex_init(payload)
    if rc != 0 { throw MPError(.process, "cannot create a lock: \(String(cString: strerror(rc)))") }
  }

  override init(existing offset: Int) {
    super.init(existing: offset)
    base = payload
  }

  var owner: UnsafeMutablePointer<Int32> { (base + LockHandle.ownerOff).assumingMemoryBound(to: Int32.self) }
  var named: UnsafeMutablePointer<Int32> { (base + LockHandle.namedOff).assumingMemoryBound(to: Int32.self) }

  public override var typeName: String { "lock" }
  public override var repr: String { "<lock \(number)>" }
  public override var memberNames: [String] { ["acquire", "release", "locked"] }

  public override func member(_ name: String) throws -> Value? {
    name == "locked" ? .bool(mp_atomic_load32(owner) != 0) : nil
  }

  public override func callMethod(_ name: String, _ args: [Value], _ interp: Interpreter) throws -> Value? {
    try acquireOrRelease(name, args, acquire: acquire, release: release)
  }

  /// Takes the lock; false if `timeout` seconds passed first.
  func acquire(timeout: Double?) throws -> Bool {
    let me = Runtime.myPid
    if mp_atomic_load32(owner) == me {
      // With a timeout this is only a wait that fails, as in Python.
      guard let timeout else {
        throw MPError(.deadlock, "this process already holds \(repr): locks are not reentrant, so acquiring it again would wait forever")
      }
      try interruptibleSleep(timeout)
      return false
    }
    var rc = mp_mutex_trylock(base)
    if rc == EBUSY {
      // Only a wait that blocks is recorded (ps, deadlock detection, trace).
      ProcessTable.setWaiting(.lock, target: offset, timed: timeout != nil)
      defer { ProcessTable.clearWaiting() }
      if let timeout {
        rc = mp_mutex_lock(base, timeout)
      } else {
        // In slices, so the main process can look for a deadlock between them.
        repeat {
          rc = mp_mutex_lock(base, 0.1)
          if rc == ETIMEDOUT { try ProcessTable.waitSlice() }
        } while rc == ETIMEDOUT
      }
    }
    // A Ctrl-C that also killed the holder hands this process the lock
    // and the interrupt at once: the interrupt wins (exit 130, no warning).
    if (rc == 0 || rc == 1) && mp_interrupt_flag != 0 {
      if rc == 1 { mp_atomic_store32(owner, 0) }
      _ = mp_mutex_unlock(base)
      mp_interrupt_flag = 0
      throw MPError(.interrupt, "interrupted")
    }
    switch rc {
    case 0: break
    case 1:
      // The owner word is 0 when the holder died between taking the mutex
      // and writing its pid (or between clearing it and unlocking).
      let dead = mp_atomic_load32(owner)
      let name = String(cString: (base + LockHandle.nameOff).assumingMemoryBound(to: CChar.self))
      let who = dead == 0 ? "a process" : "process \(dead)\(name.isEmpty ? "" : " (\(name))")"
      writeAll(2, "mp: warning: \(repr) was held by \(who), which died; process \(me) takes it over\n")
    case ETIMEDOUT: return false
    case EINTR:
      mp_interrupt_flag = 0
      throw MPError(.interrupt, "interrupted")
    default:
      throw MPError(.process, "acquiring \(repr) failed: \(String(cString: strerror(rc)))")
    }
    // Under the mutex: a release store orders it before the unlock that
    // follows (the owner is only this process's to write until then).
    mp_atomic_store32_release(owner, me)
    if Trace.isOn { Trace.record(.lockAcquired, object: number) }
    heldBy = me
    // Remember who holds it, for the warning if this process dies holding
    // it: written when another process took it last, not at every acquire.
    if named.pointee != me {
      Runtime.myNameBytes.withUnsafeBytes {
        (base + LockHandle.nameOff).copyMemory(from: $0.baseAddress!, byteCount: $0.count)
      }
      named.pointee = me
    }
    return true
  }

  func release() throws {
    let holder = mp_atomic_load32(owner)
    guard holder == Runtime.myPid else {
      if holder == 0 { throw MPError(.value, "release of \(repr), which is not locked") }
      throw MPError(.value, "release of \(repr) by process \(Runtime.myPid), but process \(holder) holds it")
    }
    mp_atomic_store32_release(owner, 0)
    if Trace.isOn { Trace.record(.lockReleased, object: number) }
    let rc = mp_mutex_unlock(base)
    if rc != 0 { throw MPError(.process, "releasing \(repr) failed: \(String(cString: strerror(rc)))") }
    heldBy = 0
    // A count an earlier wrapper handed over (-1: kept but written nowhere,
    // as in the main process) goes back now that the mutex is unlocked.
    if !LockHandle.holds.isEmpty, let kept = LockHandle.holds.removeValue(forKey: offset) {
      SharedHandle.giveBack(offset, entry: max(kept, 0))
    }
  }

  /// This process's pid while it holds the lock (a process has one wrapper
  /// per object, `SharedHandle.live`); 0 otherwise. A forked child's copy
  /// names its parent, so it reads as not held there.
  @exclusivity(unchecked) private var heldBy: Int32 = 0

  /// The locks this process holds whose wrapper went first. A held lock is
  /// not freed under its holder, even if the holder drops every value
  /// referring to it: glibc keeps a held robust mutex on the process's list
  /// and writes to it until it is unlocked, and the kernel writes to it
  /// when the holder dies. So the last wrapper of a held lock does not give
  /// its count back: it hands it to the hold (the value here: where the
  /// count is written down), given back by release() through a later
  /// wrapper, or by the holder's reaper. Taking and releasing a lock change
  /// no count at all, so a process killed at any instruction of either
  /// leaks nothing.
  @exclusivity(unchecked) nonisolated(unsafe) static var holds = HeldLocks()

  /// Called as this process's wrapper `h` goes: true if it is a lock held
  /// here, whose count the hold then keeps.
  static func keepsCount(_ h: SharedHandle, slot: Int) -> Bool {
    guard isHeldHere(h) else { return false }
    holds[h.offset] = slot == 0 ? -1 : slot
    return true
  }

  /// Whether `h` is a lock this process holds.
  static func isHeldHere(_ h: SharedHandle) -> Bool {
    guard let l = h as? LockHandle else { return false }
    return l.heldBy != 0 && l.heldBy == Runtime.myPid
  }

  public override func enter(_ interp: Interpreter) throws -> Value? {
    _ = try acquire(timeout: nil)
    return .object(self)
  }

  public override func exit(_ interp: Interpreter) throws { try release() }
}

/// `semaphore(n)`: a counting semaphore every process can use. Releasing
/// more than acquired raises the count past n, as Python's `Semaphore`
/// does (its `BoundedSemaphore` would refuse).
public final class SemaphoreHandle: SharedHandle {
  public override class var kind: UInt8 { 2 }

  init(_ n: Int) throws {
    guard n >= 0, n <= Int(Int32.max) else { throw MPError(.value, "semaphore(n) needs 0 <= n <= \(Int32.max), got \(n)") }
    try super.init(newWithPayload: 64, kind: SemaphoreHandle.kind)
    sem = payload.assumingMemoryBound(to: sem_t.self)
    if sem_init(sem, 1, UInt32(n)) != 0 {
      throw MPError(.process, "cannot create a semaphore: \(String(cString: strerror(errno)))")
    }
  }

  override init(existing offset: Int) {
    super.init(existing: offset)
    sem = payload.assumingMemoryBound(to: sem_t.self)
  }

  /// The semaphore's address, computed once (as for locks).
  @exclusivity(unchecked) private(set) var sem = UnsafeMutablePointer<sem_t>(bitPattern: 8)!

  public override var typeName: String { "semaphore" }
  public override var repr: String { "<semaphore \(number)>" }
  public override var memberNames: [String] { ["acquire", "release", "value"] }

  public override func member(_ name: String) throws -> Value? {
    guard name == "value" else { return nil }
    var v: Int32 = 0
    sem_getvalue(sem, &v)
    return .int(Int(max(0, v)))
  }

  public override func callMethod(_ name: String, _ args: [Value], _ interp: Interpreter) throws -> Value? {
    if name == "release" && args.count == 1 { return try releaseCount(args[0]) }
    return try acquireOrRelease(name, args, acquire: acquire, release: release)
  }

  /// `s.release(n)` / `release(s, n)`.
  func releaseCount(_ v: Value) throws -> Value {
    guard case .int(let n) = v else { throw MPError(.type, "release(n) needs an int, found \(v.typeName)") }
    try release(n)
    return .nil
  }

  func acquire(timeout: Double?) throws -> Bool {
    if sem_trywait(sem) == 0 { return true }
    ProcessTable.setWaiting(.semaphore, target: offset, timed: timeout != nil)
    defer { ProcessTable.clearWaiting() }
    let deadline = timeout.map { mp_now() + $0 }
    while true {
      // Wait in slices so Ctrl-C is noticed promptly.
      var slice = 0.05
      if let deadline {
        let left = deadline - mp_now()
        if left <= 0 { return sem_trywait(sem) == 0 }
        slice = min(slice, left)
      }
      var ts = timespec()
      clock_gettime(CLOCK_REALTIME, &ts)
      let ns = ts.tv_nsec + Int(slice * 1e9)
      ts.tv_sec += ns / 1_000_000_000
      ts.tv_nsec = ns % 1_000_000_000
      if sem_timedwait(sem, &ts) == 0 { return true }
      let err = errno
      if mp_interrupt_flag != 0 {
        mp_interrupt_flag = 0
        throw MPError(.interrupt, "interrupted")
      }
      if err != ETIMEDOUT && err != EINTR {
        throw MPError(.process, "acquiring \(repr) failed: \(String(cString: strerror(err)))")
      }
      try ProcessTable.waitSlice()
    }
  }

  func release() throws { try release(1) }

  /// Adds `n` to the count (`release(s, n)`), waking up to n waiters.
  func release(_ n: Int) throws {
    guard n >= 1 else { throw MPError(.value, "release(n) on \(repr) needs n >= 1, got \(n)") }
    for _ in 0..<n where sem_post(sem) != 0 {
      throw MPError(.value, "releasing \(repr) failed: \(String(cString: strerror(errno)))")
    }
  }

  public override func enter(_ interp: Interpreter) throws -> Value? {
    _ = try acquire(timeout: nil)
    return .object(self)
  }

  public override func exit(_ interp: Interpreter) throws { try release() }
}

/// `x.acquire([timeout])` and `x.release()`, shared by locks and semaphores.
func acquireOrRelease(_ name: String, _ args: [Value], acquire: (Double?) throws -> Bool,
                      release: () throws -> Void) throws -> Value? {
  switch name {
  case "acquire":
    guard args.count <= 1 else { throw MPError(.type, "acquire() takes at most 1 argument (a timeout), got \(args.count)") }
    return .bool(try acquire(try Runtime.timeout(args, 0, "acquire")))
  case "release":
    guard args.isEmpty else { throw MPError(.type, "release() takes no arguments, got \(args.count)") }
    try release()
    return .nil
  default: return nil
  }
}

/// The locks a process holds (offset -> where the kept count is written, as
/// `LockHandle.holds` describes). A process holds a few locks at a time:
/// a short list searched from the end beats hashing at every acquire and
/// release, and a buffer of its own (grown by doubling, never freed: one
/// per process) costs no uniqueness check or bounds check an array would.
struct HeldLocks {
  private var offsets: UnsafeMutablePointer<Int>? = nil
  private var kept: UnsafeMutablePointer<Int>? = nil
  private var count = 0
  private var capacity = 0

  private func find(_ offset: Int) -> Int? {
    guard let offsets else { return nil }
    var i = count - 1
    while i >= 0 {
      if offsets[i] == offset { return i }
      i -= 1
    }
    return nil
  }

  subscript(offset: Int) -> Int? {
    get { find(offset).map { kept.unsafelyUnwrapped[$0] } }
    set {
      if let i = find(offset) {
        if let newValue { kept.unsafelyUnwrapped[i] = newValue } else { _ = remove(i) }
      } else if let newValue {
        if count == capacity { grow() }
        offsets.unsafelyUnwrapped[count] = offset
        kept.unsafelyUnwrapped[count] = newValue
        count += 1
      }
    }
  }

  private mutating func grow() {
    let cap = max(8, capacity * 2)
    let o = UnsafeMutablePointer<Int>.allocate(capacity: cap), k = UnsafeMutablePointer<Int>.allocate(capacity: cap)
    if let offsets, let kept {
      o.update(from: offsets, count: count)
      k.update(from: kept, count: count)
      offsets.deallocate()
      kept.deallocate()
    }
    (offsets, kept, capacity) = (o, k, cap)
  }

  @discardableResult
  mutating func removeValue(forKey offset: Int) -> Int? {
    guard let i = find(offset) else { return nil }
    return remove(i)
  }

  /// Removes entry `i`, moving the ones after it down (locks are mostly
  /// released in the reverse order of taking them: usually none).
  private mutating func remove(_ i: Int) -> Int {
    let o = offsets.unsafelyUnwrapped, k = kept.unsafelyUnwrapped
    let v = k[i]
    var j = i
    while j < count - 1 {
      o[j] = o[j + 1]
      k[j] = k[j + 1]
      j += 1
    }
    count -= 1
    return v
  }

  var isEmpty: Bool { count == 0 }

  /// Forgets every entry (a forked child holds none of its parent's locks).
  mutating func removeAll() { count = 0 }
}
