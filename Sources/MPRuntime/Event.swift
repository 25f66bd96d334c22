import CMPShim
import Glibc
import MPLanguage

/// `event()`: a flag every process can set, clear and wait for, like
/// Python's `Event`. The flag and a futex word live in the arena; no lock
/// is ever held across a wait, so a process killed anywhere leaves it whole.
public final class EventHandle: SharedHandle {
  // Payload: flag (Int32) at 0, wake sequence (futex word) at 4, sleepers at 8.
  static let flagOff = 0, seqOff = 4, sleepersOff = 8
  public override class var kind: UInt8 { 5 }

  init() throws {
    try super.init(newWithPayload: 16, kind: EventHandle.kind)
  }

  override init(existing offset: Int) { super.init(existing: offset) }

  func i32(_ off: Int) -> UnsafeMutablePointer<Int32> { (payload + off).assumingMemoryBound(to: Int32.self) }
  var isSet: Bool { mp_atomic_load32(i32(EventHandle.flagOff)) != 0 }

  public override var typeName: String { "event" }
  public override var repr: String { "<event \(number) \(isSet ? "set" : "clear")>" }
  public override var memberNames: [String] { ["set", "clear", "is_set", "wait"] }

  public override func callMethod(_ name: String, _ args: [Value], _ interp: Interpreter) throws -> Value? {
    switch name {
    case "set":
      try methodArity(name, args, 0, 0)
      set()
      return .nil
    case "clear":
      try methodArity(name, args, 0, 0)
      mp_atomic_store32(i32(EventHandle.flagOff), 0)
      return .nil
    case "is_set":
      try methodArity(name, args, 0, 0)
      return .bool(isSet)
    case "wait":
      try methodArity(name, args, 0, 1)
      return .bool(try wait(timeout: try Runtime.timeout(args, 0, "wait")))
    default: return nil
    }
  }

  func set() {
    mp_atomic_store32(i32(EventHandle.flagOff), 1)
    mp_atomic_add32(i32(EventHandle.seqOff), 1)
    if mp_atomic_load32(i32(EventHandle.sleepersOff)) > 0 { _ = mp_futex_wake(i32(EventHandle.seqOff), Int32.max) }
  }

  /// True once the flag is set; false if `timeout` seconds passed first.
  func wait(timeout: Double?) throws -> Bool {
    if isSet { return true }
    let deadline = SyncWait.deadline(timeout)
    ProcessTable.setWaiting(.event, target: offset, timed: deadline != nil)
    defer { ProcessTable.setWaiting(.none) }
    mp_atomic_add32(i32(EventHandle.sleepersOff), 1)
    defer { mp_atomic_add32(i32(EventHandle.sleepersOff), -1) }
    while true {
      let seq = mp_atomic_load32(i32(EventHandle.seqOff))
      if isSet { return true }
      if try !SyncWait.slice(i32(EventHandle.seqOff), seq, deadline: deadline) { return isSet }
    }
  }
}
