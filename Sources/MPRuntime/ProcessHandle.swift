import CMPShim
import Glibc
import MPLanguage

/// A process started by `spawn`: `p.pid`, `p.name`, `p.alive`,
/// `p.exitcode`, `p.join()`, `p.terminate()`, `p.kill()`.
///
/// The value can be anywhere: in the process that started the child (the
/// only one that can join it), in a sibling forked later, or received
/// through a queue. Outside its parent, `alive` and `exitcode` come from
/// the shared process table, so they are true in every process.
public final class ProcessHandle: MPObject, Codec.Transferable {
  public let pid: Int32
  public let name: String
  /// The process-table registration this value means (pids are reused).
  let serial: Int
  /// The process that started it: its parent.
  let owner: Int32
  /// Read end of the result pipe; -1 once drained (or in a process that did
  /// not start this one, where the handle arrived as a value).
  var fd: Int32
  var buffer: [UInt8] = []
  /// The raw wait status once reaped.
  var status: Int32? = nil
  /// What join returns or raises, once known.
  var outcome: Result<Value, MPError>? = nil
  /// Whether this process started it (only the parent can join). A copy
  /// inherited by fork belongs to the parent, not to the copy's process.
  var isOwnChild: Bool { owner == Runtime.myPid }
  var joined = false
  /// Start order in this process (the REPL stops what a statement started).
  let seq: Int
  /// When it was started (monotonic seconds), for `time { }`.
  let started = mp_now()

  init(pid: Int32, name: String, serial: Int, fd: Int32, owner: Int32) {
    Runtime.nextSeq += 1
    seq = Runtime.nextSeq
    self.pid = pid
    self.name = name
    self.serial = serial
    self.fd = fd
    self.owner = owner
  }

  public static let codecKind: UInt8 = 1

  public func encodePayload(_ e: inout Codec.Encoder) throws {
    e.varint(Int(pid))
    e.string(name)
    e.varint(serial)
    e.varint(Int(owner))
  }

  public override var typeName: String { "process" }
  public override var repr: String { "<process \(pid) \(name)>" }
  public override var memberNames: [String] { ["pid", "name", "alive", "exitcode", "daemon", "join", "terminate", "kill"] }
  /// `spawn(..., daemon=true)`: killed when the program ends, not waited for.
  var isDaemon = false

  public override func member(_ m: String) throws -> Value? {
    switch m {
    case "pid": return .int(Int(pid))
    case "name": return .str(name)
    case "daemon": return .bool(isDaemon)
    case "alive": return .bool(isAlive)
    case "exitcode":
      guard let st = endStatus else { return .nil }
      return .int(Int(Runtime.exitCode(st)))
    default: return nil
    }
  }

  public override func callMethod(_ m: String, _ args: [Value], _ interp: Interpreter) throws -> Value? {
    switch m {
    case "join":
      guard args.count <= 1 else { throw MPError(.type, "join() takes at most 1 argument (a timeout), got \(args.count)") }
      return try Runtime.join(self, timeout: try Runtime.timeout(args, 0, "join"))
    case "terminate":
      guard args.isEmpty else { throw MPError(.type, "terminate() takes no arguments") }
      try Runtime.signal(pid, SIGTERM)
      return .nil
    case "kill":
      guard args.isEmpty else { throw MPError(.type, "kill() takes no arguments") }
      try Runtime.signal(pid, SIGKILL)
      return .nil
    default: return nil
    }
  }

  var isAlive: Bool {
    if isOwnChild {
      if outcome != nil && status == nil { Runtime.reapLeaving() }
      Runtime.poll(self)
      return status == nil
    }
    guard let t = ProcessTable.lookup(pid: pid, serial: serial) else { return false }
    // Ended but not reaped yet: a zombie is not alive.
    return !t.ended && !PoolHandle.isGone(pid)
  }

  /// The wait status once the process has ended and been reaped (by
  /// whichever process reaped it), else nil.
  var endStatus: Int32? {
    if isOwnChild {
      if outcome != nil && status == nil { Runtime.reapLeaving() }
      Runtime.poll(self)
      return status
    }
    guard let t = ProcessTable.lookup(pid: pid, serial: serial), t.ended else { return nil }
    return t.status
  }
}
