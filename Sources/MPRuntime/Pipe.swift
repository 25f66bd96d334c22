import CMPShim
import Glibc
import MPLanguage

/// `pipe()`: two connected ends, like Python's `Pipe()`. Each end can
/// `send(v)` and `recv()`; what one end sends, the other receives.
///
/// Built over the arena, not over a file descriptor: an end is a handle
/// like any other, so it works in every process of the program — one
/// forked before the pipe existed, one it was sent to through a queue —
/// where an OS pipe reaches only the children forked after it. Each
/// direction is a queue; an end holds a count on both of its queues.
/// `close()` closes both directions, and so does the end's disappearing
/// from every process (its last holder exited): the other end then reads
/// what is left and gets "closed", as it would get EOF from an OS pipe.
public final class PipeEndHandle: SharedHandle {
  // Payload: inbox queue offset (Int64, 0: cannot receive) at 0, outbox at 8,
  // closed flag (Int32) at 16, which end (Int32: 0 or 1) at 20.
  static let inOff = 0, outOff = 8, closedOff = 16, sideOff = 20
  public override class var kind: UInt8 { 10 }

  let inbox: QueueHandle?
  let outbox: QueueHandle?

  init(inbox: QueueHandle?, outbox: QueueHandle?, side: Int) throws {
    self.inbox = inbox
    self.outbox = outbox
    try super.init(newWithPayload: 24, kind: PipeEndHandle.kind)
    for (q, off) in [(inbox, PipeEndHandle.inOff), (outbox, PipeEndHandle.outOff)] {
      guard let q else { continue }
      mp_atomic_add(q.refcount, 1)  // dropped by the finalizer
      payload.storeBytes(of: Int64(q.offset), toByteOffset: off, as: Int64.self)
    }
    payload.storeBytes(of: Int32(side), toByteOffset: PipeEndHandle.sideOff, as: Int32.self)
  }

  override init(existing offset: Int) {
    let p = Arena.shared.at(offset + SharedHandle.headerSize)
    func queue(_ off: Int) -> QueueHandle? {
      let q = Int(p.load(fromByteOffset: off, as: Int64.self))
      guard q != 0 else { return nil }
      return (SharedHandle.live[q]?.takeUnretainedValue() as? QueueHandle) ?? QueueHandle(existing: q)
    }
    inbox = queue(PipeEndHandle.inOff)
    outbox = queue(PipeEndHandle.outOff)
    super.init(existing: offset)
  }

  /// `pipe([duplex])`: the two ends.
  static func make(duplex: Bool) throws -> [PipeEndHandle] {
    let ab = try QueueHandle(maxsize: 0)
    if !duplex {
      // Python's order: the first end receives, the second sends.
      return [try PipeEndHandle(inbox: ab, outbox: nil, side: 0), try PipeEndHandle(inbox: nil, outbox: ab, side: 1)]
    }
    let ba = try QueueHandle(maxsize: 0)
    return [try PipeEndHandle(inbox: ba, outbox: ab, side: 0), try PipeEndHandle(inbox: ab, outbox: ba, side: 1)]
  }

  static func registerFinalizer() {
    finalizers[kind] = { payloadOffset in
      let p = Arena.shared.at(payloadOffset)
      for off in [inOff, outOff] {
        let q = Int(p.load(fromByteOffset: off, as: Int64.self))
        guard q != 0 else { continue }
        // No process holds this end any more: the other end sees it closed.
        let qp = Arena.shared.at(q + SharedHandle.headerSize)
        mp_atomic_store32((qp + QueueHandle.closedOff).assumingMemoryBound(to: Int32.self), 1)
        mp_atomic_add32((qp + QueueHandle.dataSeqOff).assumingMemoryBound(to: Int32.self), 1)
        _ = mp_futex_wake((qp + QueueHandle.dataSeqOff).assumingMemoryBound(to: Int32.self), Int32.max)
        // Zeroed as it is given back: this may run again (SharedHandle.finish).
        SharedHandle.dropHeld(Arena.shared.word(payloadOffset + off))
      }
    }
  }

  var closedFlag: UnsafeMutablePointer<Int32> { (payload + PipeEndHandle.closedOff).assumingMemoryBound(to: Int32.self) }
  var isClosed: Bool { mp_atomic_load32(closedFlag) != 0 }
  var side: Int { Int(payload.load(fromByteOffset: PipeEndHandle.sideOff, as: Int32.self)) }

  public override var typeName: String { "pipe" }
  public override var repr: String { "<pipe \(number)\(isClosed ? " closed" : "")>" }
  public override var memberNames: [String] { ["send", "recv", "poll", "close", "closed"] }

  public override func member(_ name: String) throws -> Value? {
    name == "closed" ? .bool(isClosed) : nil
  }

  public override func callMethod(_ name: String, _ args: [Value], _ interp: Interpreter) throws -> Value? {
    switch name {
    case "send":
      try methodArity(name, args, 1, 1)
      try send(args[0])
      return .nil
    case "recv":
      try methodArity(name, args, 0, 1)
      return try recv(timeout: try Runtime.timeout(args, 0, "recv"))
    case "poll":
      try methodArity(name, args, 0, 1)
      return .bool(try poll(timeout: try Runtime.timeout(args, 0, "poll") ?? 0))
    case "close":
      try methodArity(name, args, 0, 0)
      close()
      return .nil
    default: return nil
    }
  }

  func send(_ v: Value) throws {
    if isClosed { throw MPError(.closed, "send on \(repr), which this program closed") }
    guard let outbox else { throw MPError(.value, "send on the receiving end of a one-way pipe") }
    do {
      try outbox.put(v, timeout: nil)
    } catch let e as MPError where e.kind == .closed {
      throw MPError(.closed, "send on \(repr): the other end is closed")
    }
  }

  func recv(timeout: Double?) throws -> Value {
    if isClosed { throw MPError(.closed, "recv on \(repr), which this program closed") }
    guard let inbox else { throw MPError(.value, "recv on the sending end of a one-way pipe") }
    if inbox.count == 0 && !inbox.isClosed {
      // Waits here, so ps() says "recv on pipe", not "get on queue".
      guard try poll(timeout: timeout ?? -1) else {
        throw MPError(.timeout, "recv timed out after \(formatDuration(timeout ?? 0)) s: nothing arrived on \(repr)")
      }
    }
    do {
      return try inbox.get(timeout: timeout)
    } catch let e as MPError where e.kind == .closed {
      throw MPError(.closed, "recv on \(repr): the other end is closed and everything it sent has been received")
    }
  }

  /// Whether `recv` would return at once (something arrived, or the other
  /// end closed); waits up to `timeout` seconds (for ever when negative).
  func poll(timeout: Double) throws -> Bool {
    if isClosed { throw MPError(.closed, "poll on \(repr), which this program closed") }
    guard let inbox else { throw MPError(.value, "poll on the sending end of a one-way pipe") }
    func ready() -> Bool { inbox.count > 0 || inbox.isClosed }
    if ready() { return true }
    if timeout == 0 { return false }
    let deadline: Double? = timeout < 0 ? nil : mp_now() + timeout
    let seqWord = inbox.i32(QueueHandle.dataSeqOff)
    ProcessTable.setWaiting(.pipeRecv, target: offset, timed: deadline != nil)
    defer { ProcessTable.clearWaiting() }
    while true {
      // Flagged as a sleeper, so a sender makes the wake-up call.
      let seq = QueueHandle.raiseSleeperFlag(inbox.q, QueueHandle.getWaitOff, QueueHandle.dataSeqOff)
      if ready() { return true }
      if try !SyncWait.slice(seqWord, seq, deadline: deadline) { return ready() }
    }
  }

  func close() {
    mp_atomic_store32(closedFlag, 1)
    inbox?.close()
    outbox?.close()
  }

  public override func makeIterator(_ interp: Interpreter) throws -> (() throws -> Value?)? {
    return { [self] in
      do {
        return try self.recv(timeout: nil)
      } catch let e as MPError where e.kind == .closed {
        return nil
      }
    }
  }
}
