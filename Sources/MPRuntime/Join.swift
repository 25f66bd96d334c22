import CMPShim
import Glibc
import MPLanguage

/// Processes, the parent's side: join, reaping, the end of the program.
extension Runtime {
  /// Waits for `h` (at most `timeout` seconds) and returns its function's
  /// value, or raises what went wrong in it. Joining again gives the same.
  static func join(_ h: ProcessHandle, timeout: Double?) throws -> Value {
    guard h.isOwnChild else {
      throw MPError(.process, "cannot join process \(h.pid) (\(h.name)): only the process that started it can join it (process \(h.owner)); use a queue to hear from it")
    }
    if h.outcome == nil {
      ProcessTable.setWaiting(.join, target: Int(h.pid), timed: timeout != nil)
      defer { ProcessTable.clearWaiting() }
      try waitForEnd(h, deadline: timeout.map { mp_now() + $0 }, timeout: timeout)
    }
    // A Ctrl-C that reached this process and the child together: the
    // child's "interrupted" must not hide this process's own interrupt.
    try checkInterrupt()
    h.joined = true
    // Joined: nothing more to wait for or report at the end, so the handle
    // (and the value it holds) belongs to the program alone. One still
    // leaving is reaped when it has left (`leaving`).
    children.removeAll { $0 === h }
    if h.status == nil && !leaving.contains(where: { $0 === h }) { leaving.append(h) }
    // A closure, not the key path \.rethrowable: that is an object made
    // (and a page of the heap written) at every join.
    return try (h.outcome ?? .failure(MPError(.process, "process \(h.pid) (\(h.name)) vanished"))).mapError { $0.rethrowable }.get()
  }

  static func checkInterrupt() throws {
    if mp_interrupt_flag != 0 {
      mp_interrupt_flag = 0
      throw MPError(.interrupt, "interrupted")
    }
  }

  /// Drains the child's pipe until it closes, then reaps the child. Waits
  /// in slices of 100 ms with the interrupt flag checked before each, so a
  /// Ctrl-C is never lost, whenever it comes.
  static func waitForEnd(_ h: ProcessHandle, deadline: Double?, timeout: Double? = nil) throws {
    // Drain before waiting for the child: a child writing a big result
    // blocks until someone reads it.
    while h.fd >= 0 {
      try checkInterrupt()
      var ms: Int32 = 100
      if let deadline {
        let left = deadline - mp_now()
        if left <= 0 {
          throw MPError(.timeout, "join timed out after \(formatDuration(timeout ?? 0)) s: process \(h.pid) (\(h.name)) is still running")
        }
        ms = Int32(min(left * 1000, 100)) + 1
      }
      var pfd = pollfd(fd: h.fd, events: Int16(POLLIN), revents: 0)
      let n = Glibc.poll(&pfd, 1, ms)
      if n < 0 {
        if errno == EINTR { continue }
        throw MPError(.process, "waiting for process \(h.pid) failed: \(String(cString: strerror(errno)))")
      }
      if n > 0 { drain(h, readable: true) }
      // The whole result is here: the function has returned and the child
      // only leaves (_exit, its memory unmapped: tens of microseconds that
      // join need not wait for; it is reaped as soon as it is gone).
      if h.fd >= 0 && ChildOutcome.isComplete(h.buffer) {
        close(h.fd)
        h.fd = -1
        break
      }
      // Between slices of a wait without a timeout, main looks for a deadlock.
      if n == 0 && deadline == nil { try ProcessTable.waitSlice() }
      // Other children, and orphans passed to this process, are reaped
      // while it waits: their places and objects go back at once.
      reapAny()
    }
    // A child whose whole result came is reaped later (it is still leaving).
    if !ChildOutcome.isComplete(h.buffer) {
      while h.status == nil {
        try checkInterrupt()
        reap(h, blocking: true)
      }
    }
    settle(h)
  }

  /// Reads what is available from the child's pipe without blocking;
  /// closes it at its end. `readable`: a poll has just said so (the first
  /// read needs no poll of its own).
  static func drain(_ h: ProcessHandle, readable: Bool = false) {
    guard h.fd >= 0 else { return }
    var known = readable
    while true {
      var pfd = pollfd(fd: h.fd, events: Int16(POLLIN), revents: 0)
      if !known && Glibc.poll(&pfd, 1, 0) <= 0 { return }
      known = false
      let n = readBuffer.withUnsafeMutableBytes { read(h.fd, $0.baseAddress, 1 << 16) }
      if n > 0 {
        h.buffer.append(contentsOf: readBuffer[0..<n])
        // A whole result: nothing more will come (the caller closes).
        if ChildOutcome.isComplete(h.buffer) { return }
        continue
      }
      if n < 0 && errno == EINTR { continue }
      close(h.fd)
      h.fd = -1
      return
    }
  }

  /// One read buffer for every drain: a fresh 64 KiB per join cost page faults.
  nonisolated(unsafe) static var readBuffer = [UInt8](repeating: 0, count: 1 << 16)

  /// waitpid for `pid` (-1: any child) that also gives the child's CPU
  /// seconds (its own and its reaped descendants'). r is the pid reaped, 0
  /// when none has ended (not blocking), -1 on an error (errno).
  static func waitChild(_ pid: Int32, blocking: Bool) -> (r: Int32, status: Int32, cpu: Double) {
    var st: Int32 = 0
    var ru = rusage()
    let r = wait4(pid, &st, blocking ? 0 : WNOHANG, &ru)
    let cpu = Double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + Double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6
    return (r, st, cpu)
  }

  /// Reaps `h` if it has ended (waiting for it when `blocking`).
  static func reap(_ h: ProcessHandle, blocking: Bool) {
    guard h.status == nil else { return }
    let w = waitChild(h.pid, blocking: blocking)
    if w.r == h.pid {
      childEnded(h, status: w.status, cpu: w.cpu)
    } else if w.r < 0 && errno == ECHILD {
      // Reaped already by a wait for any child (it kept the status then).
      childEnded(h, status: SIGKILL, cpu: 0)
    }
  }

  /// A child of this process ended with wait status `st`: the one place
  /// that does the bookkeeping — its exit status kept, its place in the
  /// table and every shared object it held given back, the live count
  /// lowered, its CPU time noted for `time { }`.
  static func childEnded(_ h: ProcessHandle, status st: Int32, cpu: Double) {
    guard h.status == nil else { return }
    h.status = st
    if !leaving.isEmpty { leaving.removeAll { $0 === h } }
    if Timing.open > 0 { Timing.reaped.append((h.started, cpu)) }
    if Trace.isOn { Trace.record(.reaped, object: Int(h.pid), arg: Int(exitCode(st))) }
    ended(pid: h.pid, status: st)
  }

  /// The same for a process known only by its pid (an orphan passed to
  /// the main process when its parent died).
  static func ended(pid: Int32, status st: Int32) {
    mp_atomic_add(Arena.shared.word(Arena.liveOffset), -1)
    ProcessTable.ended(pid: pid, status: st)
  }

  /// Once the pipe is closed and the child reaped: what join returns.
  /// (Or once the whole result has come: the child is then leaving.)
  static func settle(_ h: ProcessHandle) {
    guard h.outcome == nil, h.fd < 0, h.status != nil || ChildOutcome.isComplete(h.buffer) else { return }
    h.outcome = outcome(h, status: h.status)
    h.buffer = []
  }

  static func outcome(_ h: ProcessHandle, status: Int32?) -> Result<Value, MPError> {
    // Made only for a message: a string built at every join is heap written.
    var who: String { "process \(h.pid) (\(h.name))" }
    // A whole result stands whatever ended the process after it was sent.
    if let st = status, mp_wifsignaled(st) != 0, !ChildOutcome.isComplete(h.buffer) {
      return .failure(MPError(.process, "\(who) was killed by \(signalName(mp_wtermsig(st)))"))
    }
    let code = status.map { mp_wexitstatus($0) } ?? 0
    do {
      switch try ChildOutcome.decode(h.buffer) {
      case nil:
        return .failure(MPError(.process, "\(who) exited with status \(code) without sending a result"))
      case .value(let v)?:
        return .success(v)
      case .error(let inner)?:
        var e = MPError(.process, "\(who) failed: \(inner.message)\(inner.loc.map { " (at \($0))" } ?? "")")
        e.trace = inner.trace
        e.value = Interpreter.errorValue(inner)
        return .failure(e)
      case .exit(let c)?:
        if c == 0 { return .success(.nil) }
        return .failure(MPError(.process, "\(who) called exit(\(c))"))
      }
    } catch let e as MPError {
      return .failure(MPError(.process, "\(who) sent a result that cannot be read: \(e.message)"))
    } catch {
      return .failure(MPError(.process, "\(who) sent a result that cannot be read"))
    }
  }

  /// Notices, without blocking, whether `h` has ended.
  static func poll(_ h: ProcessHandle) {
    guard h.isOwnChild, h.outcome == nil else { return }
    drain(h)
    reap(h, blocking: false)
    settle(h)
  }

  /// Reaps, without blocking, every child that has ended — this process's
  /// own and, in the main process, orphans passed to it.
  static func reapAny() {
    while true {
      let w = waitChild(-1, blocking: false)
      if w.r <= 0 { return }
      if let h = children.first(where: { $0.pid == w.r }) ?? leaving.first(where: { $0.pid == w.r }) {
        childEnded(h, status: w.status, cpu: w.cpu)
      } else {
        ended(pid: w.r, status: w.status)
      }
    }
  }

  /// Reaps every child that has ended (at spawn, ps() and each REPL
  /// prompt). Children that ended well and were never joined leave the
  /// children list; failed ones stay, to be reported at the end.
  public static func reapFinished() {
    reapAny()
    for h in children { poll(h) }
    children.removeAll { h in
      if case .success? = h.outcome { return true }
      return false
    }
  }

  /// The end of the program: wait for children still running, as Python
  /// does for non-daemon processes, and report failures nobody joined.
  /// Ctrl-C ends the wait: the children are killed and it raises.
  static func waitForChildren() throws {
    // On the timeline the main script ends here, before its children.
    if !isChild && Trace.isOn { Trace.record(.scriptEnd) }
    PoolHandle.closeAll()
    // Ctrl-C while a pool finished its work killed its workers; now it
    // stops the program, with the children killed as below.
    if mp_interrupt_flag != 0 {
      killChildren()
      try SyncWait.checkInterrupt()
    }
    // Daemons are not waited for: they go when the program ends.
    for h in children where h.isDaemon && h.status == nil { Glibc.kill(h.pid, SIGKILL) }
    while let h = children.first {
      do {
        if h.outcome == nil {
          // A join like any other: ps() shows it, and children that
          // deadlock after main's last statement are reported.
          ProcessTable.setWaiting(.join, target: Int(h.pid))
          defer { ProcessTable.clearWaiting() }
          try waitForEnd(h, deadline: nil)
        }
      } catch let e as MPError {
        if e.kind == .interrupt {
          killChildren()
          throw e
        }
        throw e
      }
      // A child that failed with an error nobody saw: say so (as Python's
      // child prints its traceback). Signals were sent on purpose.
      if !h.joined, !reportedFailures.contains(h.pid), case .failure(let e)? = h.outcome, let st = h.status, mp_wifsignaled(st) == 0 {
        writeAll(2, "mp: \(e.message) (never joined)\n")
      }
      children.removeFirst()
    }
    reapAny()
    reapLeaving()
  }

  /// Joined children whose result came but which had not left yet (see
  /// `waitForEnd`); reaped by the next wait for any child, or here.
  @exclusivity(unchecked) nonisolated(unsafe) static var leaving: [ProcessHandle] = []

  /// Waits until every joined child has left and is reaped: before a look
  /// at what processes there are or hold (ps(), arena use, the process
  /// limit, CPU times), so a joined child is never seen alive.
  static func reapLeaving() {
    while let h = leaving.first {
      // (A wait cut short by a signal is tried again.)
      for _ in 0..<100 where h.status == nil { reap(h, blocking: true) }
      leaving.removeAll { $0 === h || $0.status != nil }
    }
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
      while h.status == nil { reap(h, blocking: true) }
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
      throw MPError(.process, "cannot send \(signalName(sig)) to process \(pid): \(String(cString: strerror(errno)))")
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
    default: throw MPError(.type, "\(what)() timeout must be a non-negative number of seconds, found \(v.repr)")
    }
  }
}
