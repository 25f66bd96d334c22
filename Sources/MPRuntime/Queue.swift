import CMPShim
import Glibc
import MPLanguage

/// `queue()` / `queue(maxsize)`: a FIFO of any values between any processes.
///
/// Items are encoded with the codec into blocks of the arena, linked in a
/// list under one short-held robust mutex: every item put is got exactly
/// once, whatever the number of producers and consumers. Without maxsize
/// `put` never blocks (a 10 MB string is one block), so one process can put
/// and later get, as with Python's queue. Waiting uses futexes, and a waker
/// only makes the system call when someone sleeps: waking a process on the
/// other CPU costs ~50 µs, so most items move without any.
public final class QueueHandle: SharedHandle {
  // Payload layout.
  static let mutexOff = 0, headOff = 48, tailOff = 56, countOff = 64, maxOff = 72
  static let closedOff = 80, dataSeqOff = 84, spaceSeqOff = 88, getWaitOff = 92, putWaitOff = 96
  static let payloadSize = 128
  // Item block: next (Int64), length (Int64), bytes.
  static let itemHeader = 16
  public override class var kind: UInt8 { 4 }

  init(maxsize: Int) throws {
    guard maxsize >= 0 else { throw MPError("value", "queue(maxsize) needs maxsize >= 0 (0 means no bound), got \(maxsize)") }
    try super.init(newWithPayload: QueueHandle.payloadSize, kind: QueueHandle.kind)
    let rc = mp_mutex_init(payload + QueueHandle.mutexOff)
    if rc != 0 { throw MPError("process", "cannot create a queue: \(String(cString: strerror(rc)))") }
    i64(QueueHandle.maxOff).pointee = Int64(maxsize)
  }

  override init(existing offset: Int) { super.init(existing: offset) }

  static func registerFinalizer() {
    finalizers[kind] = { payloadOffset in
      let p = Arena.shared.at(payloadOffset)
      var item = Int(p.load(fromByteOffset: headOff, as: Int64.self))
      while item != 0 {
        let next = Int(Arena.shared.at(item).load(as: Int64.self))
        Arena.shared.free(item)
        item = next
      }
    }
  }

  @inline(__always) func i64(_ off: Int) -> UnsafeMutablePointer<Int64> { (payload + off).assumingMemoryBound(to: Int64.self) }
  @inline(__always) func i32(_ off: Int) -> UnsafeMutablePointer<Int32> { (payload + off).assumingMemoryBound(to: Int32.self) }

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
        throw MPError("type", "\(name)() takes \(lo == hi ? "\(lo)" : "\(lo) to \(hi)") argument\(hi == 1 ? "" : "s"), got \(args.count)")
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
    let rc = mp_mutex_lock(payload + QueueHandle.mutexOff, -1)
    if rc == EINTR {
      mp_interrupt_flag = 0
      throw MPError("interrupt", "interrupted")
    }
    if rc != 0 && rc != 1 { throw MPError("process", "queue lock failed: \(String(cString: strerror(rc)))") }
  }

  private func unlock() { _ = mp_mutex_unlock(payload + QueueHandle.mutexOff) }

  func put(_ v: Value, timeout: Double?) throws {
    if isClosed { throw MPError("closed", "put on a closed queue") }
    try putBytes(try Codec.encode(v), timeout: timeout)
  }

  /// Puts an already encoded message (pools build theirs by hand).
  func putBytes(_ bytes: [UInt8], timeout: Double?) throws {
    if isClosed { throw MPError("closed", "put on a closed queue") }
    let item = try Arena.shared.allocate(QueueHandle.itemHeader + bytes.count)
    var linked = false
    defer { if !linked { Arena.shared.free(item) } }
    let p = Arena.shared.at(item)
    p.storeBytes(of: Int64(bytes.count), toByteOffset: 8, as: Int64.self)
    bytes.withUnsafeBytes { src in
      if let b = src.baseAddress { (p + QueueHandle.itemHeader).copyMemory(from: b, byteCount: src.count) }
    }
    let deadline = timeout.map { mp_now() + $0 }
    while true {
      try lock()
      if isClosed {
        unlock()
        throw MPError("closed", "put on a closed queue")
      }
      let max = maxsize
      if max == 0 || count < max {
        let tail = i64(QueueHandle.tailOff)
        if tail.pointee == 0 {
          i64(QueueHandle.headOff).pointee = Int64(item)
        } else {
          Arena.shared.at(Int(tail.pointee)).storeBytes(of: Int64(item), as: Int64.self)
        }
        tail.pointee = Int64(item)
        mp_atomic_add(i64(QueueHandle.countOff), 1)
        linked = true
        unlock()
        break
      }
      let seq = mp_atomic_load32(i32(QueueHandle.spaceSeqOff))
      unlock()
      try wait(on: QueueHandle.spaceSeqOff, seq: seq, waiters: QueueHandle.putWaitOff, deadline: deadline,
               kind: .queuePut) { [unowned self] in self.isClosed || self.count < self.maxsize }
      if let deadline, mp_now() >= deadline, count >= maxsize {
        throw MPError("timeout", "put timed out after \(formatDuration(timeout ?? 0)) s: \(repr) is full (maxsize \(maxsize))")
      }
    }
    mp_atomic_add32(i32(QueueHandle.dataSeqOff), 1)
    if mp_atomic_load32(i32(QueueHandle.getWaitOff)) > 0 { _ = mp_futex_wake(i32(QueueHandle.dataSeqOff), Int32.max) }
  }

  func get(timeout: Double?) throws -> Value {
    try Codec.decode(try getBytes(timeout: timeout))
  }

  /// Takes the next message without decoding it.
  func getBytes(timeout: Double?) throws -> [UInt8] {
    let deadline = timeout.map { mp_now() + $0 }
    var item = 0
    while true {
      if count > 0 || isClosed {
        try lock()
        let head = i64(QueueHandle.headOff)
        if head.pointee != 0 {
          item = Int(head.pointee)
          let next = Arena.shared.at(item).load(as: Int64.self)
          head.pointee = next
          if next == 0 { i64(QueueHandle.tailOff).pointee = 0 }
          mp_atomic_add(i64(QueueHandle.countOff), -1)
          unlock()
          break
        }
        let closed = isClosed
        unlock()
        if closed { throw MPError("closed", "get on a closed queue with no items left") }
      }
      let seq = mp_atomic_load32(i32(QueueHandle.dataSeqOff))
      if count > 0 || isClosed { continue }
      if let deadline, mp_now() >= deadline {
        throw MPError("timeout", "get timed out after \(formatDuration(timeout ?? 0)) s: \(repr) stayed empty")
      }
      try wait(on: QueueHandle.dataSeqOff, seq: seq, waiters: QueueHandle.getWaitOff, deadline: deadline,
               kind: .queueGet) { [unowned self] in self.count > 0 || self.isClosed }
    }
    let p = Arena.shared.at(item)
    let n = Int(p.load(fromByteOffset: 8, as: Int64.self))
    let bytes = [UInt8](UnsafeRawBufferPointer(start: p + QueueHandle.itemHeader, count: n))
    Arena.shared.free(item)
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
    ProcessTable.setWaiting(kind, target: offset)
    defer { ProcessTable.setWaiting(.none) }
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
      throw MPError("interrupt", "interrupted")
    }
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
      } catch let e as MPError where e.kind == "closed" {
        return nil
      }
    }
  }
}
