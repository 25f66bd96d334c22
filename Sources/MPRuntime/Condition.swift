import CMPShim
import Glibc
import MPLanguage

/// `condition([lock])`: a condition variable over one of our locks, like
/// Python's `Condition`. `notify(n)` wakes at most n waiters, oldest first.
///
/// Each waiter takes a slot in a table in the arena (pid, ticket, and a
/// futex word that a notifier flips), under a short-held robust mutex. A
/// waiter that dies leaves a slot whose pid is gone: notifiers skip and free
/// it, so a dead waiter never swallows a wake-up. The user's lock is an
/// ordinary `LockHandle`; the condition holds a count on it.
public final class ConditionHandle: SharedHandle {
  // Payload: mutex (48 bytes) at 0, lock offset (Int64) at 48, next ticket
  // (Int64) at 56, capacity (Int64) at 64, slots from 80: pid (Int32),
  // woken (Int32, futex word), ticket (Int64).
  static let mutexOff = 0, lockOff = 48, ticketOff = 56, capacityOff = 64, slotsOff = 80, slotSize = 16
  public override class var kind: UInt8 { 6 }

  let lock: LockHandle

  init(lock: LockHandle?) throws {
    let l = try lock ?? LockHandle()
    self.lock = l
    let capacity = Runtime.maxProcs + 1
    try super.init(newWithPayload: ConditionHandle.slotsOff + capacity * ConditionHandle.slotSize,
                   kind: ConditionHandle.kind)
    let rc = mp_mutex_init(payload + ConditionHandle.mutexOff)
    if rc != 0 { throw MPError(.process, "cannot create a condition: \(String(cString: strerror(rc)))") }
    mp_atomic_add(l.refcount, 1)  // dropped by the finalizer
    i64(ConditionHandle.lockOff).pointee = Int64(l.offset)
    i64(ConditionHandle.capacityOff).pointee = Int64(capacity)
  }

  override init(existing offset: Int) {
    let p = Arena.shared.at(offset + SharedHandle.headerSize)
    let lockOffset = Int(p.load(fromByteOffset: ConditionHandle.lockOff, as: Int64.self))
    lock = (SharedHandle.live[lockOffset]?.takeUnretainedValue() as? LockHandle) ?? LockHandle(existing: lockOffset)
    super.init(existing: offset)
  }

  static func registerFinalizer() {
    finalizers[kind] = { payloadOffset in
      // Zeroed as it is given back: this may run again (SharedHandle.finish).
      SharedHandle.dropHeld(Arena.shared.word(payloadOffset + lockOff))
    }
  }

  func i64(_ off: Int) -> UnsafeMutablePointer<Int64> { (payload + off).assumingMemoryBound(to: Int64.self) }
  var capacity: Int { Int(i64(ConditionHandle.capacityOff).pointee) }
  func slot(_ i: Int) -> UnsafeMutableRawPointer { payload + ConditionHandle.slotsOff + i * ConditionHandle.slotSize }
  func pid(_ s: UnsafeMutableRawPointer) -> UnsafeMutablePointer<Int32> { s.assumingMemoryBound(to: Int32.self) }
  func woken(_ s: UnsafeMutableRawPointer) -> UnsafeMutablePointer<Int32> { (s + 4).assumingMemoryBound(to: Int32.self) }
  func ticket(_ s: UnsafeMutableRawPointer) -> UnsafeMutablePointer<Int64> { (s + 8).assumingMemoryBound(to: Int64.self) }

  public override var typeName: String { "condition" }
  public override var repr: String { "<condition \(number)>" }
  public override var memberNames: [String] { ["acquire", "release", "wait", "wait_for", "notify", "notify_all", "lock"] }

  public override func member(_ name: String) throws -> Value? {
    name == "lock" ? .object(lock) : nil
  }

  public override func callMethod(_ name: String, _ args: [Value], _ interp: Interpreter) throws -> Value? {
    switch name {
    case "acquire", "release":
      return try acquireOrRelease(name, args, acquire: lock.acquire, release: lock.release)
    case "wait":
      try methodArity(name, args, 0, 1)
      return .bool(try wait(timeout: try Runtime.timeout(args, 0, "wait")))
    case "wait_for":
      try methodArity(name, args, 1, 2)
      return try waitFor(args[0], timeout: try Runtime.timeout(args, 1, "wait_for"), interp)
    case "notify":
      try methodArity(name, args, 0, 1)
      var n = 1
      if let v = args.first {
        guard case .int(let k) = v, k >= 0 else { throw MPError(.type, "notify(n) needs an int >= 0, found \(v.repr)") }
        n = k
      }
      try notify(n, what: "notify")
      return .nil
    case "notify_all":
      try methodArity(name, args, 0, 0)
      try notify(Int.max, what: "notify_all")
      return .nil
    default: return nil
    }
  }

  public override func enter(_ interp: Interpreter) throws -> Value? {
    _ = try lock.acquire(timeout: nil)
    return .object(self)
  }

  public override func exit(_ interp: Interpreter) throws { try lock.release() }

  func requireHeld(_ what: String) throws {
    guard mp_atomic_load32(lock.owner) == Runtime.myPid else {
      throw MPError(.value, "\(what)() on \(repr) needs its lock held (use `with c { ... }` or acquire \(lock.repr) first)")
    }
  }

  /// Releases the lock, sleeps until notified (or the timeout), takes the
  /// lock again. True when notified.
  func wait(timeout: Double?) throws -> Bool {
    try requireHeld("wait")
    let deadline = SyncWait.deadline(timeout)
    let mutex = payload + ConditionHandle.mutexOff
    // Take a slot while still holding the lock: a notify that follows our
    // release cannot miss us.
    try SyncWait.lock(mutex)
    var mine: UnsafeMutableRawPointer? = nil
    for i in 0..<capacity where mp_atomic_load32(pid(slot(i))) == 0 {
      mine = slot(i)
      break
    }
    if mine == nil {
      // Full: reuse the slot of a waiter that died.
      for i in 0..<capacity where SyncWait.isGone(mp_atomic_load32(pid(slot(i)))) {
        mine = slot(i)
        break
      }
    }
    guard let s = mine else {
      SyncWait.unlock(mutex)
      throw MPError(.value, "too many processes waiting on \(repr) (at most \(capacity))")
    }
    let t = i64(ConditionHandle.ticketOff).pointee
    i64(ConditionHandle.ticketOff).pointee = t + 1
    ticket(s).pointee = t
    mp_atomic_store32(woken(s), 0)
    mp_atomic_store32(pid(s), Runtime.myPid)
    SyncWait.unlock(mutex)
    try lock.release()

    var failure: Error? = nil
    ProcessTable.setWaiting(.condition, target: offset, timed: deadline != nil)
    do {
      while mp_atomic_load32(woken(s)) == 0 {
        if try !SyncWait.slice(woken(s), 0, deadline: deadline) { break }
      }
    } catch {
      failure = error
    }
    ProcessTable.setWaiting(.none)
    // Leave the table; a notify that came after the timeout still counts.
    SyncWait.lockThroughInterrupt(mutex)
    let notified = mp_atomic_load32(woken(s)) != 0
    mp_atomic_store32(pid(s), 0)
    SyncWait.unlock(mutex)
    // The lock is taken again whatever happened, so `with` can release it.
    // (A second Ctrl-C while taking it back gives up.)
    do {
      _ = try lock.acquire(timeout: nil)
    } catch let e as MPError where e.kind == .interrupt {
      _ = try lock.acquire(timeout: nil)
      if failure == nil { failure = e }
    }
    if let failure { throw failure }
    return notified
  }

  /// Wakes at most `n` waiters, oldest first.
  func notify(_ n: Int, what: String) throws {
    try requireHeld(what)
    let mutex = payload + ConditionHandle.mutexOff
    try SyncWait.lock(mutex)
    defer { SyncWait.unlock(mutex) }
    var waiting: [(Int64, UnsafeMutableRawPointer)] = []
    for i in 0..<capacity {
      let s = slot(i)
      guard mp_atomic_load32(pid(s)) != 0, mp_atomic_load32(woken(s)) == 0 else { continue }
      waiting.append((ticket(s).pointee, s))
    }
    waiting.sort { $0.0 < $1.0 }
    var left = n
    for (_, s) in waiting where left > 0 {
      // A dead waiter must not swallow the wake-up (checked only when it
      // matters: reading /proc for every waiter would slow every notify).
      if n != Int.max && SyncWait.isGone(mp_atomic_load32(pid(s))) {
        mp_atomic_store32(pid(s), 0)
        continue
      }
      mp_atomic_store32(woken(s), 1)
      _ = mp_futex_wake(woken(s), 1)
      left -= 1
    }
  }

  /// `wait_for(pred[, timeout])`: waits until `pred()` is truthy; returns
  /// its last value (falsy when the timeout passed first).
  func waitFor(_ pred: Value, timeout: Double?, _ interp: Interpreter) throws -> Value {
    try requireHeld("wait_for")
    let deadline = SyncWait.deadline(timeout)
    var result = try interp.call(pred, [])
    while !result.isTruthy {
      var left: Double? = nil
      if let deadline {
        left = deadline - mp_now()
        if left! <= 0 { break }
      }
      _ = try wait(timeout: left)
      result = try interp.call(pred, [])
    }
    return result
  }
}
