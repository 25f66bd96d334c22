import CMPShim
import Glibc
import MPLanguage

extension Runtime {
  /// This process's process-table serial (0 in the main process), so
  /// `current()` means this registration and no later one with the same pid.
  @exclusivity(unchecked) nonisolated(unsafe) static var mySerial = 0

  /// `spawn(f, args..., name="worker-1", daemon=true)`.
  static func spawnWithOptions(_ f: Value, _ args: [Value], _ options: [String: Value],
                               _ interp: Interpreter) throws -> ProcessHandle {
    var name: String? = nil
    if let v = options["name"] {
      switch v {
      case .nil: break
      case .str(let s):
        guard !s.isEmpty else { throw MPError(.value, "spawn(name=) needs a non-empty string") }
        name = s
      default: throw MPError(.type, "spawn(name=) needs a string, found \(v.typeName)")
      }
    }
    var daemon = false
    if let v = options["daemon"] {
      switch v {
      case .nil: break
      case .bool(let b): daemon = b
      default: throw MPError(.type, "spawn(daemon=) needs a bool, found \(v.typeName)")
      }
    }
    return try spawn(f, args, interp, name: name, daemon: daemon)
  }

  /// `current()`: the running process, as a process value (`.pid`,
  /// `.name`); "main" in the main process.
  static func currentProcess() -> ProcessHandle {
    ProcessHandle(pid: myPid, name: myName, serial: mySerial, fd: -1, owner: getppid())
  }

  static func registerCurrent() {
    Interpreter.register(Builtin("current", 0, 0, "current(): the running process (.pid, .name)") { _, _ in
      .object(currentProcess())
    })
  }
}
