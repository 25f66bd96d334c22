import CMPShim
import Glibc
import MPLanguage

/// `queue()` / `queue(maxsize)`: a FIFO of any values between any processes.
///
/// Items are encoded with the codec into slots of a chain of segments in
/// the arena (QueueRing.swift), under two robust mutexes, one for putters
/// and one for getters: every item put is got exactly once, whatever the
/// number of producers and consumers, and a producer and a consumer never
/// wait for each other's lock. Without maxsize `put` never blocks (a 10 MB
/// string is one block), so one process can put and later get, as with
/// Python's queue. Waiting spins for a few microseconds, then sleeps on a
/// futex, and a waker only makes the system call when someone sleeps:
/// waking a process on the other CPU costs ~50 µs, so most items move
/// without any.
///
/// A process may die at any instruction of a put or a get: a put cut short
/// never happened, a get cut short leaves its item for the next getter
/// (QueueRing.swift says how).
public final class QueueHandle: SharedHandle {
  public override class var kind: UInt8 { 4 }

  /// The payload's address, computed once.
  private(set) var q = UnsafeMutableRawPointer(bitPattern: 16)!

  init(maxsize: Int) throws {
    guard maxsize >= 0 else { throw MPError(.value, "queue(maxsize) needs maxsize >= 0 (0 means no bound), got \(maxsize)") }
    try super.init(newWithPayload: QueueHandle.payloadSize, kind: QueueHandle.kind)
    q = payload
    try putLock.initialise("a queue")
    try getLock.initialise("a queue")
    i64(QueueHandle.maxOff).pointee = Int64(maxsize)
    try QueueHandle.makeFirstSegment(q)
  }

  override init(existing offset: Int) {
    super.init(existing: offset)
    q = payload
  }

  static func registerFinalizer() {
    finalizers[kind] = { payloadOffset in QueueHandle.freeAll(Arena.shared.at(payloadOffset)) }
  }

  @inline(__always) func i64(_ off: Int) -> UnsafeMutablePointer<Int64> { (q + off).assumingMemoryBound(to: Int64.self) }
  @inline(__always) func i32(_ off: Int) -> UnsafeMutablePointer<Int32> { (q + off).assumingMemoryBound(to: Int32.self) }

  private var putLock: SharedMutex { SharedMutex(mutex: q + QueueHandle.putMutexOff, dirty: q + QueueHandle.putDirtyOff) }
  private var getLock: SharedMutex { SharedMutex(mutex: q + QueueHandle.getMutexOff, dirty: q + QueueHandle.getDirtyOff) }
  var count: Int { QueueHandle.itemCount(q) }
  var maxsize: Int { Int(i64(QueueHandle.maxOff).pointee) }
  var isClosed: Bool { mp_load_acquire32(i32(QueueHandle.closedOff)) != 0 }
  var format: Int32 { mp_load_acquire32(i32(QueueHandle.formatOff)) }

  public override var typeName: String { "queue" }
  public override var repr: String { "<queue \(number)>" }
  public override var memberNames: [String] { ["put", "get", "empty", "size", "close", "closed", "maxsize"] }

  public override func member(_ name: String) throws -> Value? {
    switch name {
    case "closed": return .bool(isClosed)
    case "maxsize": return .int(maxsize)
    default: return nil
    }
  }

  public override func callMethod(_ name: String, _ args: [Value], _ interp: Interpreter) throws -> Value? {
    func arity(_ lo: Int, _ hi: Int) throws {
      if args.count < lo || args.count > hi {
        throw MPError(.type, "\(name)() takes \(lo == hi ? "\(lo)" : "\(lo) to \(hi)") argument\(hi == 1 ? "" : "s"), got \(args.count)")
      }
    }
    switch name {
    case "put":
      try arity(1, 2)
      try put(args[0], timeout: try Runtime.timeout(args, 1, "put"))
      return .nil
    case "get":
      try arity(0, 1)
      return try get(timeout: try Runtime.timeout(args, 0, "get"))
    case "empty":
      try arity(0, 0)
      return .bool(count == 0)
    case "size":
      try arity(0, 0)
      return .int(count)
    case "close":
      try arity(0, 0)
      close()
      return .nil
    default: return nil
    }
  }

  private func lockPut() throws {
    if try putLock.lock(repr) {
      QueueHandle.repairPut(q)
      wakeEveryone()
    }
  }

  private func lockGet() throws {
    if try getLock.lock(repr) {
      QueueHandle.repairGet(q)
      wakeEveryone()
    }
  }

  // MARK: put

  func put(_ v: Value, timeout: Double?) throws {
    typealias Tag = Codec.Tag
    // The codec's encoding of the common small values, written straight
    // into the slot (the same bytes Codec.encode makes).
    switch v {
    case .nil:
      try putRaw(count: 1, timeout: timeout) { $0.storeBytes(of: Tag.nilValue.rawValue, as: UInt8.self) }
    case .bool(let b):
      let t = (b ? Tag.trueValue : Tag.falseValue).rawValue
      try putRaw(count: 1, timeout: timeout) { $0.storeBytes(of: t, as: UInt8.self) }
    case .int(let i):
      try putRaw(count: 9, timeout: timeout) { d in
        d.storeBytes(of: Tag.int.rawValue, as: UInt8.self)
        d.storeBytes(of: Int64(i).littleEndian, toByteOffset: 1, as: Int64.self)
      }
    case .float(let x):
      try putRaw(count: 9, timeout: timeout) { d in
        d.storeBytes(of: Tag.float.rawValue, as: UInt8.self)
        d.storeBytes(of: x.bitPattern.littleEndian, toByteOffset: 1, as: UInt64.self)
      }
    case .str(var s) where s.utf8.count < 0x80 && s.utf8.count + 2 <= QueueHandle.inlineMax:
      let n = s.utf8.count
      try putRaw(count: n + 2, timeout: timeout) { d in
        d.storeBytes(of: Tag.str.rawValue, as: UInt8.self)
        d.storeBytes(of: UInt8(n), toByteOffset: 1, as: UInt8.self)
        s.withUTF8 { u in if let b = u.baseAddress { (d + 2).copyMemory(from: b, byteCount: n) } }
      }
    default:
      var e = Codec.Encoder()
      try e.countedValue(v)
      try putEncoded(e, timeout: timeout)
    }
  }

  /// Puts an already encoded message (pools build theirs by hand).
  func putBytes(_ bytes: [UInt8], timeout: Double?) throws {
    try putRaw(count: bytes.count, timeout: timeout) { d in
      bytes.withUnsafeBytes { src in if let b = src.baseAddress { d.copyMemory(from: b, byteCount: src.count) } }
    }
  }

  /// Puts a message written with `Encoder.countedValue`. The counts it
  /// holds are this process's (its record's, in a child) until the store
  /// that publishes it makes them the queue's (ProcessRefs.beginPublish);
  /// a put that fails gives them back.
  func putEncoded(_ e: Codec.Encoder, timeout: Double?) throws {
    let publish = e.countedEntries.contains { $0 > 0 }
      ? ProcessRefs.Publish(entries: e.countedEntries, offsets: e.counted) : nil
    do {
      try putRaw(count: e.bytes.count, timeout: timeout, publishing: publish) { d in
        e.bytes.withUnsafeBytes { src in if let b = src.baseAddress { d.copyMemory(from: b, byteCount: src.count) } }
      }
    } catch {
      SharedHandle.dropCounts(e.counted, entries: e.countedEntries)
      throw error
    }
  }

  /// Puts an item of `count` bytes, which `write` writes where the queue
  /// keeps them (under the put lock: it must not throw or wait).
  private func putRaw(count: Int, timeout: Double?, publishing: ProcessRefs.Publish? = nil,
                      _ write: (UnsafeMutableRawPointer) -> Void) throws {
    if isClosed { throw MPError(.closed, "put on a closed queue") }
    let deadline = timeout.map { mp_now() + $0 }
    defer { ProcessTable.clearWaiting() }
    while true {
      try lockPut()
      if isClosed {
        putLock.unlock()
        throw MPError(.closed, "put on a closed queue")
      }
      let n = Int(i64(QueueHandle.putCountOff).pointee)
      let max = maxsize
      if max == 0 || n - Int(mp_load_acquire(i64(QueueHandle.getCountOff))) < max {
        if let publishing { ProcessRefs.beginPublish(queue: offset, item: n, publishing) }
        do {
          try QueueHandle.putItem(q, n, count: count, write)
        } catch {
          if let publishing { ProcessRefs.abortPublish(queue: offset, publishing) }
          putLock.unlock()
          throw error
        }
        if let publishing { ProcessRefs.finishPublish(queue: offset, publishing) }
        putLock.unlock()
        break
      }
      putLock.unlock()
      if let deadline, mp_now() >= deadline {
        throw MPError(.timeout, "put timed out after \(formatDuration(timeout ?? 0)) s: \(repr) is full (maxsize \(maxsize))")
      }
      try wait(on: QueueHandle.spaceSeqOff, waiters: QueueHandle.putWaitOff, deadline: deadline, kind: .queuePut) {
        isClosed || count < maxsize
      }
    }
    // The item is published; a getter that found none and went to sleep
    // raised its flag first (see `wait`), so this sees it.
    mp_fence()
    wakeIfAsleep(QueueHandle.getWaitOff, QueueHandle.dataSeqOff)
  }

  // MARK: get

  func get(timeout: Double?) throws -> Value {
    switch try take(timeout: timeout, decode: true, taking: nil, taken: nil) {
    case .value(let v): return v
    case .bytes(let b): return try Codec.decode(b)
    }
  }

  /// Takes the next message without decoding it. `taking`, if given, sees
  /// the message while the queue still holds it, under the queue's lock: a
  /// pool worker writes down which chunk it takes there, so that whenever
  /// it dies, its chunk is either still queued or known to be its own.
  /// `taken`, if given, runs right after the message left the queue, still
  /// under the lock.
  func getBytes(timeout: Double?, taking: ((UnsafeRawBufferPointer) -> Void)? = nil,
                taken: (() -> Void)? = nil) throws -> [UInt8] {
    switch try take(timeout: timeout, decode: false, taking: taking, taken: taken) {
    case .value: return []  // not made when decode is false
    case .bytes(let b): return b
    }
  }

  private enum Taken {
    case value(Value)
    case bytes([UInt8])
  }

  private func take(timeout: Double?, decode: Bool, taking: ((UnsafeRawBufferPointer) -> Void)?,
                    taken: (() -> Void)?) throws -> Taken {
    let deadline = timeout.map { mp_now() + $0 }
    // A get that cannot wait (timeout 0: "is there one already?") is no
    // interruption point: it must not take a Ctrl-C that the caller's next
    // real wait is to see (a pool call draining its replies lost it).
    let canWait = timeout.map { $0 > 0 } ?? true
    defer { ProcessTable.clearWaiting() }
    while true {
      if canWait && mp_interrupt_flag != 0 {
        mp_interrupt_flag = 0
        throw MPError(.interrupt, "interrupted")
      }
      if count > 0 || isClosed {
        try lockGet()
        let n = Int(i64(QueueHandle.getCountOff).pointee)
        if n < Int(mp_load_acquire(i64(QueueHandle.putCountOff))) {
          let slot = QueueHandle.slotForGet(q, n)
          let (body, block) = QueueHandle.itemBytes(slot)
          if decode, block == 0, let v = QueueHandle.decodeSmall(body) {
            taking?(body)
            QueueHandle.finishGet(q, n, block: block, taken: taken)
            endGet()
            return .value(v)
          }
          let got = [UInt8](body)
          // Counts the item carries, moved to this process's record by the
          // store that takes it out (ProcessRefs.beginTakeOver). Only a
          // child keeps a record; small items never carry any.
          let takeOver = ProcessRefs.first != 0 ? beginTakeOver(body, n) : nil
          taking?(body)
          QueueHandle.finishGet(q, n, block: block, taken: taken)
          if let takeOver { ProcessRefs.finishTakeOver(takeOver) }
          endGet()
          if takeOver != nil { DiePoint.itemTaken.reach() }
          return .bytes(got)
        }
        let closed = isClosed
        getLock.unlock()
        if closed { throw MPError(.closed, "get on a closed queue with no items left") }
      }
      if let deadline, mp_now() >= deadline {
        throw MPError(.timeout, "get timed out after \(formatDuration(timeout ?? 0)) s: \(repr) stayed empty")
      }
      try wait(on: QueueHandle.dataSeqOff, waiters: QueueHandle.getWaitOff, deadline: deadline, kind: .queueGet) {
        count > 0 || isClosed
      }
    }
  }

  /// An item was got: the get lock goes, and a putter waiting for space is woken.
  @inline(__always) private func endGet() {
    getLock.unlock()
    if maxsize > 0 {
      mp_fence()
      wakeIfAsleep(QueueHandle.putWaitOff, QueueHandle.spaceSeqOff)
    }
  }

  /// Under the get lock, before item `n` (in `body`) leaves the queue: the
  /// counts it carries are written down as this process's, pending.
  private func beginTakeOver(_ body: UnsafeRawBufferPointer, _ n: Int) -> ProcessRefs.TakeOver? {
    guard let list = QueueHandle.carriedCounts(body, format: format) else { return nil }
    return ProcessRefs.beginTakeOver(queue: offset, item: n, offsets: list)
  }

  /// The value of a small item encoded by `put`'s fast path; nil for
  /// anything else (decoded by the codec).
  static func decodeSmall(_ b: UnsafeRawBufferPointer) -> Value? {
    typealias Tag = Codec.Tag
    guard let tag = b.first else { return nil }
    switch tag {
    case Tag.nilValue.rawValue where b.count == 1: return .nil
    case Tag.falseValue.rawValue where b.count == 1: return .bool(false)
    case Tag.trueValue.rawValue where b.count == 1: return .bool(true)
    case Tag.int.rawValue where b.count == 9:
      return .int(Int(Int64(littleEndian: b.loadUnaligned(fromByteOffset: 1, as: Int64.self))))
    case Tag.float.rawValue where b.count == 9:
      return .float(Double(bitPattern: UInt64(littleEndian: b.loadUnaligned(fromByteOffset: 1, as: UInt64.self))))
    case Tag.str.rawValue where b.count >= 2 && b[1] < 0x80 && b.count == 2 + Int(b[1]):
      return .str(String(decoding: UnsafeRawBufferPointer(rebasing: b[2...]), as: UTF8.self))
    default: return nil
    }
  }

  // MARK: waiting

  /// Spins briefly, then sleeps on the futex word until `ready()`, the
  /// deadline, or Ctrl-C. Returns after one slice; the caller looks again.
  private func wait(on seqOff: Int, waiters: Int, deadline: Double?, kind: ProcessTable.WaitKind,
                    ready: () -> Bool) throws {
    // The other side usually answers within microseconds when it runs; a
    // sleep costs it a system call to wake this process, and this process
    // tens of microseconds to be scheduled again.
    let spinEnd = mp_now() + QueueHandle.spinSeconds
    repeat {
      for _ in 0..<64 {
        if ready() { return }
        mp_cpu_relax()
      }
    } while mp_now() < min(spinEnd, deadline ?? spinEnd)
    // Left set across slices (the caller clears it): one wait, not many.
    ProcessTable.setWaiting(kind, target: offset, timed: deadline != nil)
    let seq = QueueHandle.raiseSleeperFlag(q, waiters, seqOff)
    if ready() { return }
    var slice = 0.1
    if let deadline {
      let left = deadline - mp_now()
      if left <= 0 { return }
      slice = min(slice, left)
    }
    // The flag is checked whatever the wait returned: a Ctrl-C that came
    // just before the wait started interrupts no system call, and would
    // otherwise be lost.
    if mp_interrupt_flag == 0 { _ = mp_futex_wait(i32(seqOff), seq, slice) }
    if mp_interrupt_flag != 0 {
      mp_interrupt_flag = 0
      throw MPError(.interrupt, "interrupted")
    }
    if !ready() { try ProcessTable.waitSlice() }
  }

  /// How long a getter (putter) watches for an item (space) before it sleeps.
  static let spinSeconds = 10e-6

  /// Before a sleep on `seqOff`: raises the sleeper flag `flagOff` (a full
  /// barrier), then reads the word to sleep on. The caller looks for its
  /// condition after this: a waker that made it true after that look sees
  /// the flag and bumps the word, so the sleep returns at once.
  static func raiseSleeperFlag(_ q: UnsafeMutableRawPointer, _ flagOff: Int, _ seqOff: Int) -> Int32 {
    mp_atomic_store32((q + flagOff).assumingMemoryBound(to: Int32.self), 1)
    return mp_load_acquire32((q + seqOff).assumingMemoryBound(to: Int32.self))
  }

  /// After publishing (and a fence): wakes the sleepers on `seqOff` if any
  /// raised the flag. The first waker takes the flag down, so a sleeper
  /// woken but not yet running costs later wakers nothing; a sleeper
  /// raises it again before each sleep.
  private func wakeIfAsleep(_ flagOff: Int, _ seqOff: Int) {
    let flag = i32(flagOff)
    if mp_load_acquire32(flag) != 0 && mp_atomic_cas32(flag, 1, 0) != 0 { wake(seqOff) }
  }

  private func wake(_ seqOff: Int) {
    mp_atomic_add32(i32(seqOff), 1)
    _ = mp_futex_wake(i32(seqOff), Int32.max)
  }

  /// Waiters may sleep on a state that changed: let them look again.
  private func wakeEveryone() {
    wake(QueueHandle.dataSeqOff)
    wake(QueueHandle.spaceSeqOff)
  }

  func close() {
    mp_atomic_store32(i32(QueueHandle.closedOff), 1)
    wakeEveryone()
  }

  public override func makeIterator(_ interp: Interpreter) throws -> (() throws -> Value?)? {
    return { [self] in
      do {
        return try self.get(timeout: nil)
      } catch let e as MPError where e.kind == .closed {
        return nil
      }
    }
  }
}
