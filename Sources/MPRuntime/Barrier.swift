import CMPShim
import Glibc
import MPLanguage

/// `barrier(n)`: n processes wait until all have arrived, then all go on,
/// like Python's `Barrier`. `b.wait([timeout])` returns this process's
/// arrival index (0 for the first). A waiter that times out, a waiter that
/// dies, or `b.reset()` while processes wait breaks the barrier: every
/// waiter gets an error of kind "broken" (the one that timed out gets
/// "timeout"), and later waits fail at once until `b.reset()`.
///
/// State lives in the arena under a short-held robust mutex; waiters sleep
/// on the generation word. Each generation's outcome is kept as one bit of
/// a 64-bit history, so a waiter that wakes late still learns how its own
/// generation ended.
public final class BarrierHandle: SharedHandle {
  // Payload: mutex (48) at 0; state (Int64) at 48: arrived count in bits
  // 0-23, broken in bit 24, generation in bits 32-63 (the upper half, at 52,
  // is the futex word); parties (Int32) at 56; broken history (Int64) at
  // 64; why (Int32: 1 timeout, 2 death, 3 reset, 4 abort) at 72; culprit
  // pid (Int32) at 76; waiter pids from 80.
  //
  // Every change of the state is one atomic store of the whole word, made
  // after everything it publishes is written: a process killed at any
  // instruction (its robust mutex handed to the next taker) leaves either
  // the old state or the new one, never a count from one round with the
  // generation of another.
  static let stateOff = 48, genOff = 52, partiesOff = 56, historyOff = 64
  static let whyOff = 72, culpritOff = 76, pidsOff = 80
  static let countMask: Int64 = (1 << 24) - 1, brokenBit: Int64 = 1 << 24
  public override class var kind: UInt8 { 7 }

  init(parties: Int) throws {
    guard parties >= 1, parties <= 1 << 20 else { throw MPError(.value, "barrier(n) needs n >= 1, got \(parties)") }
    try super.init(newWithPayload: BarrierHandle.pidsOff + 4 * parties, kind: BarrierHandle.kind)
    let rc = mp_mutex_init(payload)
    if rc != 0 { throw MPError(.process, "cannot create a barrier: \(String(cString: strerror(rc)))") }
    (payload + BarrierHandle.partiesOff).storeBytes(of: Int32(parties), as: Int32.self)
  }

  override init(existing offset: Int) { super.init(existing: offset) }

  func i32(_ off: Int) -> UnsafeMutablePointer<Int32> { (payload + off).assumingMemoryBound(to: Int32.self) }
  var stateWord: UnsafeMutablePointer<Int64> { (payload + BarrierHandle.stateOff).assumingMemoryBound(to: Int64.self) }
  var genWord: UnsafeMutablePointer<Int32> { i32(BarrierHandle.genOff) }
  var history: UnsafeMutablePointer<Int64> { (payload + BarrierHandle.historyOff).assumingMemoryBound(to: Int64.self) }
  var parties: Int { Int(i32(BarrierHandle.partiesOff).pointee) }
  var state: Int64 { mp_atomic_load(stateWord) }
  var count: Int { Int(state & BarrierHandle.countMask) }
  var isBroken: Bool { state & BarrierHandle.brokenBit != 0 }
  func waiterPid(_ i: Int) -> UnsafeMutablePointer<Int32> { i32(BarrierHandle.pidsOff + 4 * i) }

  static func gen(_ state: Int64) -> Int32 { Int32(truncatingIfNeeded: state >> 32) }
  static func make(gen: Int32, count: Int, broken: Bool) -> Int64 {
    (Int64(gen) << 32) | Int64(count) | (broken ? brokenBit : 0)
  }
  static func bit(_ gen: Int32) -> Int64 { Int64(1) << Int64(gen & 63) }

  public override var typeName: String { "barrier" }
  public override var repr: String { "<barrier \(number) \(count)/\(parties)\(isBroken ? " broken" : "")>" }
  public override var memberNames: [String] { ["wait", "reset", "abort", "parties", "waiting", "broken"] }

  public override func member(_ name: String) throws -> Value? {
    switch name {
    case "parties": return .int(parties)
    case "waiting": return .int(count)
    case "broken": return .bool(isBroken)
    default: return nil
    }
  }

  public override func callMethod(_ name: String, _ args: [Value], _ interp: Interpreter) throws -> Value? {
    switch name {
    case "wait":
      try methodArity(name, args, 0, 1)
      return .int(try wait(timeout: try Runtime.timeout(args, 0, "wait")))
    case "reset":
      try methodArity(name, args, 0, 0)
      try reset(breakOnly: false)
      return .nil
    case "abort":
      try methodArity(name, args, 0, 0)
      try reset(breakOnly: true)
      return .nil
    default: return nil
    }
  }

  func brokenError() -> MPError {
    let culprit = i32(BarrierHandle.culpritOff).pointee
    let why: String
    switch i32(BarrierHandle.whyOff).pointee {
    case 1: why = "a waiter (process \(culprit)) timed out"
    case 2: why = "a waiter (process \(culprit)) died while waiting"
    case 3: why = "process \(culprit) reset it while processes waited"
    case 4: why = "process \(culprit) aborted it"
    default: why = "it was broken"
    }
    return MPError(.broken, "\(repr) is broken: \(why) (b.reset() makes it usable again)")
  }

  /// Publishes a new state and wakes every waiter. Called with the mutex held.
  private func publish(_ new: Int64) {
    mp_atomic_store(stateWord, new)
    _ = mp_futex_wake(genWord, Int32.max)
  }

  /// Ends the current generation as broken. Called with the mutex held.
  private func breakLocked(why: Int32, culprit: Int32, staysBroken: Bool) {
    let gen = BarrierHandle.gen(state)
    i32(BarrierHandle.whyOff).pointee = why
    i32(BarrierHandle.culpritOff).pointee = culprit
    history.pointee = (history.pointee | BarrierHandle.bit(gen)) & ~BarrierHandle.bit(gen &+ 1)
    publish(BarrierHandle.make(gen: gen &+ 1, count: 0, broken: staysBroken))
  }

  /// A waiter of the current generation that has died, if any.
  private func deadWaiter() -> Int32? {
    for i in 0..<count {
      let p = mp_atomic_load32(waiterPid(i))
      if SyncWait.isGone(p) { return p }
    }
    return nil
  }

  func wait(timeout: Double?) throws -> Int {
    let deadline = SyncWait.deadline(timeout)
    try SyncWait.lock(payload)
    if isBroken {
      SyncWait.unlock(payload)
      throw brokenError()
    }
    if let dead = deadWaiter() {
      breakLocked(why: 2, culprit: dead, staysBroken: true)
      SyncWait.unlock(payload)
      throw brokenError()
    }
    let gen = BarrierHandle.gen(state)
    let index = count
    if index + 1 == parties {
      // The last to arrive lets everyone go. (A break of this generation
      // that a dying process began but never published is undone here.)
      history.pointee &= ~(BarrierHandle.bit(gen) | BarrierHandle.bit(gen &+ 1))
      publish(BarrierHandle.make(gen: gen &+ 1, count: 0, broken: false))
      SyncWait.unlock(payload)
      return index
    }
    mp_atomic_store32(waiterPid(index), Runtime.myPid)
    mp_atomic_store(stateWord, BarrierHandle.make(gen: gen, count: index + 1, broken: false))
    SyncWait.unlock(payload)

    ProcessTable.setWaiting(.barrier, target: offset, timed: deadline != nil)
    defer { ProcessTable.setWaiting(.none) }
    var slices = 0
    while mp_atomic_load32(genWord) == gen {
      var more = true
      do {
        more = try SyncWait.slice(genWord, gen, deadline: deadline)
      } catch {
        // Ctrl-C: this waiter leaves, so the others must not wait for it.
        SyncWait.lockThroughInterrupt(payload)
        if BarrierHandle.gen(state) == gen { breakLocked(why: 2, culprit: Runtime.myPid, staysBroken: true) }
        SyncWait.unlock(payload)
        throw error
      }
      slices += 1
      if !more || slices % 5 == 0 {
        try SyncWait.lock(payload)
        if BarrierHandle.gen(state) == gen {
          if !more {
            breakLocked(why: 1, culprit: Runtime.myPid, staysBroken: true)
            SyncWait.unlock(payload)
            throw MPError(.timeout, "\(repr) wait timed out after \(formatDuration(timeout ?? 0)) s with \(index + 1) of \(parties) arrived; the barrier is now broken")
          }
          if let dead = deadWaiter() { breakLocked(why: 2, culprit: dead, staysBroken: true) }
        }
        SyncWait.unlock(payload)
      }
    }
    // Our generation has ended: normally, or broken.
    if history.pointee & BarrierHandle.bit(gen) != 0 { throw brokenError() }
    return index
  }

  /// `reset()`: waiters now get "broken"; the barrier is usable again.
  /// `abort()`: the same, but it stays broken.
  func reset(breakOnly: Bool) throws {
    try SyncWait.lock(payload)
    defer { SyncWait.unlock(payload) }
    if count > 0 || breakOnly {
      breakLocked(why: breakOnly ? 4 : 3, culprit: Runtime.myPid, staysBroken: breakOnly)
    } else if isBroken {
      publish(BarrierHandle.make(gen: BarrierHandle.gen(state), count: 0, broken: false))
    }
  }
}
