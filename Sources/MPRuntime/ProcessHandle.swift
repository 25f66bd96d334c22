import CMPShim
import Glibc
import MPLanguage

/// A process started by `spawn`: `p.pid`, `p.name`, `p.alive`,
/// `p.exitcode`, `p.join()`, `p.terminate()`, `p.kill()`.
public final class ProcessHandle: MPObject, Codec.Transferable {
  public let pid: Int32
  public let name: String
  /// Read end of the result pipe; -1 once drained (or in a process that did
  /// not start this one, where the handle arrived as a value).
  var fd: Int32
  var buffer: [UInt8] = []
  /// The raw wait status once reaped.
  var status: Int32? = nil
  /// What join returns or raises, once known.
  var outcome: Result<Value, MPError>? = nil
  /// Whether this process started it (only the parent can join).
  let isOwnChild: Bool
  var joined = false
  /// Start order in this process (the REPL stops what a statement started).
  let seq: Int

  init(pid: Int32, name: String, fd: Int32, isOwnChild: Bool) {
    Runtime.nextSeq += 1
    seq = Runtime.nextSeq
    self.pid = pid
    self.name = name
    self.fd = fd
    self.isOwnChild = isOwnChild
  }

  public static let codecKind: UInt8 = 1

  public func encodePayload(_ e: inout Codec.Encoder) throws {
    e.varint(Int(pid))
    e.string(name)
  }

  public override var typeName: String { "process" }
  public override var repr: String { "<process \(pid) \(name)>" }
  public override var memberNames: [String] { ["pid", "name", "alive", "exitcode", "join", "terminate", "kill"] }

  public override func member(_ m: String) throws -> Value? {
    switch m {
    case "pid": return .int(Int(pid))
    case "name": return .str(name)
    case "alive": return .bool(isAlive)
    case "exitcode":
      if isOwnChild { Runtime.poll(self) }
      guard let st = status else { return .nil }
      return .int(Int(Runtime.exitCode(st)))
    default: return nil
    }
  }

  public override func callMethod(_ m: String, _ args: [Value], _ interp: Interpreter) throws -> Value? {
    switch m {
    case "join":
      guard args.count <= 1 else { throw MPError("type", "join() takes at most 1 argument (a timeout), got \(args.count)") }
      return try Runtime.join(self, timeout: try Runtime.timeout(args, 0, "join"))
    case "terminate":
      guard args.isEmpty else { throw MPError("type", "terminate() takes no arguments") }
      try Runtime.signal(pid, SIGTERM)
      return .nil
    case "kill":
      guard args.isEmpty else { throw MPError("type", "kill() takes no arguments") }
      try Runtime.signal(pid, SIGKILL)
      return .nil
    default: return nil
    }
  }

  var isAlive: Bool {
    if isOwnChild {
      Runtime.poll(self)
      return status == nil
    }
    return Glibc.kill(pid, 0) == 0 && ProcessTable.contains(pid)
  }
}
