import CMPShim
import Glibc
import MPLanguage

extension Runtime {
  static func registerBuiltins() {
    func reg(_ name: String, _ lo: Int, _ hi: Int, _ doc: String, _ fn: @escaping ([Value], Interpreter) throws -> Value) {
      Interpreter.register(Builtin(name, lo, hi, doc, fn))
    }
    Interpreter.register(Builtin("spawn", 1, -1, "spawn(f, args..., name=, daemon=): run f(args...) in a new process (fork); returns the process at once",
                                 params: ["f"], keywordOnly: ["name", "daemon"]) { a, options, i in
      .object(try spawnWithOptions(a[0], Array(a.dropFirst()), options, i))
    })
    reg("join", 1, 2, "join(p[, timeout]) or join([p, ...]): wait for a process, return its function's value") { a, _ in
      let t = try timeout(a, 1, "join")
      switch a[0] {
      case .object(let h as ProcessHandle):
        return try join(h, timeout: t)
      case .list(let l):
        var out: [Value] = []
        let deadline = t.map { mp_now() + $0 }
        for x in l.items {
          guard case .object(let h as ProcessHandle) = x else {
            throw MPError(.type, "join() needs processes, found \(x.typeName) in the list")
          }
          do {
            out.append(try join(h, timeout: deadline.map { max(0, $0 - mp_now()) }))
          } catch var e as MPError where e.kind == .timeout && t != nil {
            // The timeout is the whole list's: say the number the user gave,
            // not what was left of it for this process.
            e.message = "join timed out after \(formatDuration(t ?? 0)) s: process \(h.pid) (\(h.name)) is still running"
            throw e
          }
        }
        return .list(ListRef(out))
      default:
        throw MPError(.type, "join() needs a process or a list of processes, found \(a[0].typeName)")
      }
    }
    reg("cpu_count", 0, 0, "cpu_count(): the number of CPUs this machine has") { _, _ in
      .int(max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    }
    reg("pid", 0, 0, "pid(): this process's id") { _, _ in .int(Int(getpid())) }
    reg("ppid", 0, 0, "ppid(): the parent process's id") { _, _ in .int(Int(getppid())) }
    reg("kill", 1, 2, "kill(pid[, \"TERM\"|\"INT\"|\"STOP\"|\"CONT\"|\"KILL\"]): send a signal to a process of this program") { a, _ in
      guard case .int(let p) = a[0], let pid = Int32(exactly: p), pid > 0 else {
        throw MPError(.type, "kill() needs a process id (a positive int), found \(a[0].repr)")
      }
      var sig = SIGKILL
      if a.count > 1 {
        guard case .str(let name) = a[1], let s = signalNumbers[name.uppercased().replacingPrefix("SIG")] else {
          throw MPError(.value, "kill() signal must be one of \"KILL\", \"TERM\", \"INT\", \"STOP\", \"CONT\", \"HUP\", \"USR1\", \"USR2\", found \(a[1].repr)")
        }
        sig = s
      }
      guard pid == getpid() || ProcessTable.contains(pid) else {
        throw MPError(.process, "kill(\(pid)): not a process of this program")
      }
      try signal(pid, sig)
      return .nil
    }
    Codec.register(kind: ProcessHandle.codecKind) { d in
      let pid = Int32(truncatingIfNeeded: try d.varint())
      let name = try d.string()
      let serial = try d.varint()
      let owner = Int32(truncatingIfNeeded: try d.varint())
      if let own = children.first(where: { $0.pid == pid && $0.serial == serial }) { return .object(own) }
      return .object(ProcessHandle(pid: pid, name: name, serial: serial, fd: -1, owner: owner))
    }
  }

  static let signalNumbers: [String: Int32] = [
    "KILL": SIGKILL, "TERM": SIGTERM, "INT": SIGINT, "STOP": SIGSTOP, "CONT": SIGCONT, "HUP": SIGHUP,
    "USR1": SIGUSR1, "USR2": SIGUSR2,
  ]
}

extension String {
  func replacingPrefix(_ p: String) -> String { hasPrefix(p) ? String(dropFirst(p.count)) : self }
}
