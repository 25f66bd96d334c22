import CMPShim
import Glibc
import MPLanguage

/// `queue()` / `queue(maxsize)`: a FIFO of any values between any processes.
///
/// Items are encoded with the codec into blocks of the arena, linked in a
/// list under one robust mutex: every item put is got exactly once,
/// whatever the number of producers and consumers. Without maxsize `put`
/// never blocks (a 10 MB string is one block), so one process can put and
/// later get, as with Python's queue. Waiting uses futexes, and a waker
/// only makes the system call when someone sleeps: waking a process on the
/// other CPU costs ~50 µs, so most items move without any.
///
/// A process may die at any instruction of a put or a get. The list is
/// changed one store at a time, and the one block a put or get is working
/// on is named in `pending` first (the arena writes it there as it hands
/// the block out, and clears it as it takes it back). The next process to
/// take the lock after a death (SharedMutex says so) walks the list,
/// recounts it, and frees the pending block if the list does not hold it:
/// a put cut short never happened, a get cut short leaves its item for
/// the next getter.
public final class QueueHandle: SharedHandle {
  // Payload layout.
  static let mutexOff = 0, dirtyOff = 48, headOff = 56, tailOff = 64, countOff = 72, maxOff = 80
  static let closedOff = 88, dataSeqOff = 92, spaceSeqOff = 96, getWaitOff = 100, putWaitOff = 104
  static let pendingOff = 112
  static let formatOff = 120  // what the items are: values, or a pool's own messages (QueueItems.swift)
  static let payloadSize = 128
  // Item block: next (Int64), length (Int64), bytes.
  static let itemHeader = 16
  public override class var kind: UInt8 { 4 }

  init(maxsize: Int) throws {
    guard maxsize >= 0 else { throw MPError(.value, "queue(maxsize) needs maxsize >= 0 (0 means no bound), got \(maxsize)") }
    try super.init(newWithPayload: QueueHandle.payloadSize, kind: QueueHandle.kind)
    try mutex.initialise("a queue")
    i64(QueueHandle.maxOff).pointee = Int64(maxsize)
  }

  override init(existing offset: Int) { super.init(existing: offset) }

  static func registerFinalizer() {
    finalizers[kind] = { payloadOffset in
      // An allocation cut short by a death names its block in `pending`
      // once the arena is repaired: before `pending` is read.
      Arena.shared.settle()
      let p = Arena.shared.at(payloadOffset)
      let format = p.load(fromByteOffset: formatOff, as: Int32.self)
      var item = Int(p.load(fromByteOffset: headOff, as: Int64.self))
      while item != 0 && Arena.shared.isAllocated(item) {
        let next = Int(Arena.shared.at(item).load(as: Int64.self))
        dropCounts(item, format: format)
        Arena.shared.free(item)
        item = next
      }
      let pending = Int(p.load(fromByteOffset: pendingOff, as: Int64.self))
      if pending != 0 && Arena.shared.isAllocated(pending) { Arena.shared.free(pending) }
    }
  }

  @inline(__always) func i64(_ off: Int) -> UnsafeMutablePointer<Int64> { (payload + off).assumingMemoryBound(to: Int64.self) }
  @inline(__always) func i32(_ off: Int) -> UnsafeMutablePointer<Int32> { (payload + off).assumingMemoryBound(to: Int32.self) }

  var mutex: SharedMutex { SharedMutex(mutex: payload + QueueHandle.mutexOff, dirty: payload + QueueHandle.dirtyOff) }
  var count: Int { Int(mp_atomic_load(i64(QueueHandle.countOff))) }
  var maxsize: Int { Int(i64(QueueHandle.maxOff).pointee) }
  var isClosed: Bool { mp_atomic_load32(i32(QueueHandle.closedOff)) != 0 }

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

  private func lock() throws {
    if try mutex.lock(repr) { repair() }
  }

  private func unlock() { mutex.unlock() }

  /// After a process died holding the lock: make the list, its tail and
  /// its count agree again, and settle the block the dead one was working on.
  private func repair() {
    // The arena first: its own repair may finish a free that clears `pending`.
    Arena.shared.settle()
    let pending = Int(i64(QueueHandle.pendingOff).pointee)
    var n = 0, last = 0, holdsPending = false
    var item = Int(i64(QueueHandle.headOff).pointee)
    var prev: UnsafeMutablePointer<Int64> = i64(QueueHandle.headOff)
    while item != 0 {
      guard Arena.shared.isAllocated(item) else {
        prev.pointee = 0  // cannot happen with one-store steps; never follow garbage
        break
      }
      if item == pending { holdsPending = true }
      n += 1
      last = item
      prev = Arena.shared.at(item).assumingMemoryBound(to: Int64.self)
      item = Int(prev.pointee)
    }
    i64(QueueHandle.tailOff).pointee = Int64(last)
    mp_atomic_store(i64(QueueHandle.countOff), Int64(n))
    if pending != 0 && !holdsPending && Arena.shared.isAllocated(pending) {
      Arena.shared.free(pending, clearing: i64(QueueHandle.pendingOff))
    }
    i64(QueueHandle.pendingOff).pointee = 0
    // Waiters may sleep on a count that changed: let them look again.
    mp_atomic_add32(i32(QueueHandle.dataSeqOff), 1)
    mp_atomic_add32(i32(QueueHandle.spaceSeqOff), 1)
    _ = mp_futex_wake(i32(QueueHandle.dataSeqOff), Int32.max)
    _ = mp_futex_wake(i32(QueueHandle.spaceSeqOff), Int32.max)
  }

  func put(_ v: Value, timeout: Double?) throws {
    if isClosed { throw MPError(.closed, "put on a closed queue") }
    try putBytes(try Codec.encode(v), timeout: timeout)
  }

  /// Puts an already encoded message (pools build theirs by hand).
  func putBytes(_ bytes: [UInt8], timeout: Double?) throws {
    if isClosed { throw MPError(.closed, "put on a closed queue") }
    let deadline = timeout.map { mp_now() + $0 }
    defer { ProcessTable.clearWaiting() }
    while true {
      try lock()
      if isClosed {
        unlock()
        throw MPError(.closed, "put on a closed queue")
      }
      let max = maxsize
      if max == 0 || count < max {
        let pending = i64(QueueHandle.pendingOff)
        let item: Int
        do {
          item = try Arena.shared.allocate(QueueHandle.itemHeader + bytes.count, zeroed: false, storeIn: pending)
        } catch {
          unlock()
          throw error
        }
        let p = Arena.shared.at(item)
        p.storeBytes(of: Int64(0), as: Int64.self)
        p.storeBytes(of: Int64(bytes.count), toByteOffset: 8, as: Int64.self)
        bytes.withUnsafeBytes { src in
          if let b = src.baseAddress { (p + QueueHandle.itemHeader).copyMemory(from: b, byteCount: src.count) }
        }
        let tail = i64(QueueHandle.tailOff)
        if tail.pointee == 0 {
          i64(QueueHandle.headOff).pointee = Int64(item)
        } else {
          Arena.shared.at(Int(tail.pointee)).storeBytes(of: Int64(item), as: Int64.self)
        }
        tail.pointee = Int64(item)
        mp_atomic_add(i64(QueueHandle.countOff), 1)
        pending.pointee = 0
        unlock()
        break
      }
      let seq = mp_atomic_load32(i32(QueueHandle.spaceSeqOff))
      unlock()
      try wait(on: QueueHandle.spaceSeqOff, seq: seq, waiters: QueueHandle.putWaitOff, deadline: deadline,
               kind: .queuePut) { [unowned self] in self.isClosed || self.count < self.maxsize }
      if let deadline, mp_now() >= deadline, count >= maxsize {
        throw MPError(.timeout, "put timed out after \(formatDuration(timeout ?? 0)) s: \(repr) is full (maxsize \(maxsize))")
      }
    }
    mp_atomic_add32(i32(QueueHandle.dataSeqOff), 1)
    if mp_atomic_load32(i32(QueueHandle.getWaitOff)) > 0 { _ = mp_futex_wake(i32(QueueHandle.dataSeqOff), Int32.max) }
  }

  func get(timeout: Double?) throws -> Value {
    try Codec.decode(try getBytes(timeout: timeout))
  }

  /// Takes the next message without decoding it. `taking`, if given, sees
  /// the message while the queue still holds it, under the queue's lock: a
  /// pool worker writes down which chunk it takes there, so that whenever
  /// it dies, its chunk is either still queued or known to be its own.
  /// `taken`, if given, runs right after the message left the list, still
  /// under the lock.
  func getBytes(timeout: Double?, taking: ((UnsafeRawBufferPointer) -> Void)? = nil,
                taken: (() -> Void)? = nil) throws -> [UInt8] {
    let deadline = timeout.map { mp_now() + $0 }
    // A get that cannot wait (timeout 0: "is there one already?") is no
    // interruption point: it must not take a Ctrl-C that the caller's next
    // real wait is to see (a pool call draining its replies lost it).
    let canWait = timeout.map { $0 > 0 } ?? true
    var bytes: [UInt8] = []
    defer { ProcessTable.clearWaiting() }
    while true {
      if canWait && mp_interrupt_flag != 0 {
        mp_interrupt_flag = 0
        throw MPError(.interrupt, "interrupted")
      }
      if count > 0 || isClosed {
        try lock()
        let head = i64(QueueHandle.headOff)
        let item = Int(head.pointee)
        if item != 0 {
          let p = Arena.shared.at(item)
          let n = Int(p.load(fromByteOffset: 8, as: Int64.self))
          let body = UnsafeRawBufferPointer(start: p + QueueHandle.itemHeader, count: n)
          bytes = [UInt8](body)
          taking?(body)
          let pending = i64(QueueHandle.pendingOff)
          pending.pointee = Int64(item)
          let next = p.load(as: Int64.self)
          head.pointee = next
          taken?()
          if next == 0 { i64(QueueHandle.tailOff).pointee = 0 }
          mp_atomic_add(i64(QueueHandle.countOff), -1)
          Arena.shared.free(item, clearing: pending)
          unlock()
          break
        }
        let closed = isClosed
        unlock()
        if closed { throw MPError(.closed, "get on a closed queue with no items left") }
      }
      let seq = mp_atomic_load32(i32(QueueHandle.dataSeqOff))
      if count > 0 || isClosed { continue }
      if let deadline, mp_now() >= deadline {
        throw MPError(.timeout, "get timed out after \(formatDuration(timeout ?? 0)) s: \(repr) stayed empty")
      }
      try wait(on: QueueHandle.dataSeqOff, seq: seq, waiters: QueueHandle.getWaitOff, deadline: deadline,
               kind: .queueGet) { [unowned self] in self.count > 0 || self.isClosed }
    }
    if maxsize > 0 {
      mp_atomic_add32(i32(QueueHandle.spaceSeqOff), 1)
      if mp_atomic_load32(i32(QueueHandle.putWaitOff)) > 0 { _ = mp_futex_wake(i32(QueueHandle.spaceSeqOff), Int32.max) }
    }
    return bytes
  }

  /// Spins briefly, then sleeps on the futex word until `ready()`, the
  /// deadline, or Ctrl-C.
  private func wait(on seqOff: Int, seq: Int32, waiters: Int, deadline: Double?, kind: ProcessTable.WaitKind,
                    ready: () -> Bool) throws {
    for _ in 0..<200 {
      if ready() || mp_atomic_load32(i32(seqOff)) != seq { return }
    }
    // Left set across slices (the caller clears it): one wait, not many.
    ProcessTable.setWaiting(kind, target: offset, timed: deadline != nil)
    mp_atomic_add32(i32(waiters), 1)
    defer { mp_atomic_add32(i32(waiters), -1) }
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

  func close() {
    mp_atomic_store32(i32(QueueHandle.closedOff), 1)
    mp_atomic_add32(i32(QueueHandle.dataSeqOff), 1)
    mp_atomic_add32(i32(QueueHandle.spaceSeqOff), 1)
    _ = mp_futex_wake(i32(QueueHandle.dataSeqOff), Int32.max)
    _ = mp_futex_wake(i32(QueueHandle.spaceSeqOff), Int32.max)
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
