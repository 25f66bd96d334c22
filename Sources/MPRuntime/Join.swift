import CMPShim
import Glibc
import MPLanguage

extension Runtime {
  /// Waits for `h` (at most `timeout` seconds) and returns its function's
  /// value, or raises what went wrong in it. Joining again gives the same.
  static func join(_ h: ProcessHandle, timeout: Double?) throws -> Value {
    if let o = h.outcome {
      h.joined = true
      children.removeAll { $0 === h }
      return try o.get()
    }
    guard h.isOwnChild else {
      throw MPError("process", "cannot join process \(h.pid) (\(h.name)): only the process that started it can join it")
    }
    ProcessTable.setWaiting(.join, target: Int(h.pid))
    defer { ProcessTable.setWaiting(.none) }
    let deadline = timeout.map { mp_now() + $0 }
    // Drain the pipe before waiting for the child: a child writing a big
    // result blocks until someone reads it.
    while h.fd >= 0 {
      var pfd = pollfd(fd: h.fd, events: Int16(POLLIN), revents: 0)
      // Slices of 100 ms, the flag checked before each: a Ctrl-C that came
      // just before poll() interrupts no system call.
      var ms: Int32 = 100
      if mp_interrupt_flag != 0 {
        mp_interrupt_flag = 0
        throw MPError("interrupt", "interrupted")
      }
      if let deadline {
        let left = deadline - mp_now()
        if left <= 0 {
          throw MPError("timeout", "join timed out after \(formatDuration(timeout ?? 0)) s: process \(h.pid) (\(h.name)) is still running")
        }
        ms = Int32(min(left * 1000, 100)) + 1
      }
      let n = Glibc.poll(&pfd, 1, ms)
      if n < 0 {
        if errno == EINTR {
          if mp_interrupt_flag != 0 {
            mp_interrupt_flag = 0
            throw MPError("interrupt", "interrupted")
          }
          continue
        }
        throw MPError("process", "waiting for process \(h.pid) failed: \(String(cString: strerror(errno)))")
      }
      if n == 0 { continue }
      drain(h, blocking: false)
    }
    try reap(h, blocking: true)
    h.joined = true
    // Joined and reaped: nothing more to wait for or report at the end, so
    // the handle (and the value it holds) belongs to the program alone.
    children.removeAll { $0 === h }
    return try (h.outcome ?? .failure(MPError("process", "process \(h.pid) (\(h.name)) vanished"))).get()
  }

  /// Reads what is available from the child's pipe; closes it at EOF.
  /// One read buffer for every drain: a fresh 64 KiB per join cost page faults.
  nonisolated(unsafe) static var readBuffer = [UInt8](repeating: 0, count: 1 << 16)

  static func drain(_ h: ProcessHandle, blocking: Bool) {
    guard h.fd >= 0 else { return }
    while true {
      if !blocking {
        var pfd = pollfd(fd: h.fd, events: Int16(POLLIN), revents: 0)
        if Glibc.poll(&pfd, 1, 0) <= 0 { return }
      }
      let n = readBuffer.withUnsafeMutableBytes { read(h.fd, $0.baseAddress, 1 << 16) }
      if n > 0 {
        h.buffer.append(contentsOf: readBuffer[0..<n])
        continue
      }
      if n < 0 && errno == EINTR { continue }
      close(h.fd)
      h.fd = -1
      return
    }
  }

  /// Collects the child's exit status and works out its outcome.
  static func reap(_ h: ProcessHandle, blocking: Bool) throws {
    if h.status == nil {
      var st: Int32 = 0
      while true {
        let r = waitpid(h.pid, &st, blocking ? 0 : WNOHANG)
        if r == h.pid { break }
        if r == 0 { return }
        if r < 0 && errno == EINTR {
          if mp_interrupt_flag != 0 && blocking {
            mp_interrupt_flag = 0
            throw MPError("interrupt", "interrupted")
          }
          continue
        }
        // ECHILD: someone else reaped it; treat as killed.
        st = SIGKILL
        break
      }
      h.status = st
      mp_atomic_add(Arena.shared.word(Arena.liveOffset), -1)
      ProcessTable.release(pid: h.pid)
    }
    guard h.outcome == nil, h.fd < 0, let st = h.status else { return }
    h.outcome = outcome(h, status: st)
    h.buffer = []
  }

  static func outcome(_ h: ProcessHandle, status st: Int32) -> Result<Value, MPError> {
    let who = "process \(h.pid) (\(h.name))"
    if mp_wifsignaled(st) != 0 {
      let sig = mp_wtermsig(st)
      return .failure(MPError("process", "\(who) was killed by \(signalName(sig))"))
    }
    let code = mp_wexitstatus(st)
    guard let tag = h.buffer.first else {
      return .failure(MPError("process", "\(who) exited with status \(code) without sending a result"))
    }
    let rest = h.buffer.dropFirst()
    do {
      switch tag {
      case 0: return .success(try Codec.decode(h.buffer, from: 1))
      case 1:
        let inner = try decodeError(rest)
        var where_ = ""
        if let l = inner.loc { where_ = " (at \(l))" }
        var e = MPError("process", "\(who) failed: \(inner.message)\(where_)")
        e.trace = inner.trace
        e.value = Interpreter.errorValue(inner)
        return .failure(e)
      default:
        if code == 0 { return .success(.nil) }
        return .failure(MPError("process", "\(who) called exit(\(code))"))
      }
    } catch let e as MPError {
      return .failure(MPError("process", "\(who) sent a result that cannot be read: \(e.message)"))
    } catch {
      return .failure(MPError("process", "\(who) sent a result that cannot be read"))
    }
  }

  /// Notices, without blocking, whether `h` has ended.
  static func poll(_ h: ProcessHandle) {
    guard h.status == nil || h.fd >= 0 else { return }
    drain(h, blocking: false)
    try? reap(h, blocking: false)
  }

  /// Reaps every child that has ended (the REPL calls this between statements).
  public static func reapFinished() {
    for h in children { poll(h) }
  }

  /// The end of the program: wait for children still running, as Python
  /// does for non-daemon processes, and report failures nobody joined.
  static func waitForChildren() throws {
    PoolHandle.closeAll()
    var firstError: MPError? = nil
    while let h = children.first {
      do {
        if h.outcome == nil {
          drain(h, blocking: true)
          try reap(h, blocking: true)
        }
        // A child that failed with an error nobody saw: say so (as Python's
        // child prints its traceback). Signals were sent on purpose.
        if !h.joined, case .failure(let e)? = h.outcome, let st = h.status, mp_wifsignaled(st) == 0 {
          writeAll(2, "mp: \(e.message) (never joined)\n")
        }
      } catch let e as MPError {
        if firstError == nil { firstError = e }
        if e.kind == "interrupt" {
          killChildren()
          throw e
        }
      }
      children.removeFirst()
    }
    if let e = firstError { throw e }
  }

  /// Ctrl-C: kill every child this process started since `statementMark`
  /// (all of them in a script; in the REPL, what the statement started),
  /// and reap them.
  static func killChildren() {
    let doomed = children.filter { $0.seq > statementMark }
    for h in doomed where h.status == nil { Glibc.kill(h.pid, SIGKILL) }
    for h in doomed {
      if h.fd >= 0 {
        close(h.fd)
        h.fd = -1
      }
      var st: Int32 = 0
      if h.status == nil {
        while waitpid(h.pid, &st, 0) < 0 && errno == EINTR {}
        h.status = st
        mp_atomic_add(Arena.shared.word(Arena.liveOffset), -1)
        ProcessTable.release(pid: h.pid)
      }
    }
    children.removeAll { $0.seq > statementMark }
  }

  /// Children started after this count belong to the running statement.
  nonisolated(unsafe) static var statementMark = 0
  nonisolated(unsafe) static var nextSeq = 0

  /// The REPL calls this before each statement: Ctrl-C then stops only
  /// what that statement starts.
  public static func markStatementStart() {
    reapFinished()
    statementMark = nextSeq
  }

  /// `:quit!`: kill every child, whenever it was started.
  public static func killAllChildren() {
    statementMark = 0
    PoolHandle.closeAllByKilling()
    killChildren()
  }

  public static var childCount: Int { children.count }

  static func signal(_ pid: Int32, _ sig: Int32) throws {
    if Glibc.kill(pid, sig) != 0 && errno != ESRCH {
      throw MPError("process", "cannot send \(signalName(sig)) to process \(pid): \(String(cString: strerror(errno)))")
    }
  }

  static func exitCode(_ st: Int32) -> Int32 {
    mp_wifsignaled(st) != 0 ? -mp_wtermsig(st) : mp_wexitstatus(st)
  }

  static let signalNames: [Int32: String] = [
    SIGKILL: "SIGKILL", SIGTERM: "SIGTERM", SIGINT: "SIGINT", SIGSEGV: "SIGSEGV", SIGABRT: "SIGABRT",
    SIGHUP: "SIGHUP", SIGQUIT: "SIGQUIT", SIGBUS: "SIGBUS", SIGFPE: "SIGFPE", SIGPIPE: "SIGPIPE",
    SIGUSR1: "SIGUSR1", SIGUSR2: "SIGUSR2", SIGALRM: "SIGALRM", SIGSTOP: "SIGSTOP", SIGCONT: "SIGCONT",
  ]

  static func signalName(_ sig: Int32) -> String { signalNames[sig] ?? "signal \(sig)" }

  /// The optional timeout argument at `i`: nil when absent or nil.
  static func timeout(_ args: [Value], _ i: Int, _ what: String) throws -> Double? {
    guard i < args.count else { return nil }
    if case .nil = args[i] { return nil }
    return try seconds(args[i], what)
  }

  static func seconds(_ v: Value, _ what: String) throws -> Double {
    switch v {
    case .int(let i) where i >= 0: return Double(i)
    case .float(let d) where d >= 0 && d.isFinite: return d
    case .nil: return -1
    default: throw MPError("type", "\(what)() timeout must be a non-negative number of seconds, found \(v.repr)")
    }
  }
}
