import CMPShim
import Glibc
import MPLanguage

extension Runtime {
  /// `ps()` and `sleep()`, which records that the process sleeps (for
  /// `ps()`, the timeline, and so that a sleeper never counts as deadlocked).
  static func registerSeeingBuiltins() {
    Interpreter.register(Builtin("ps", 0, 0, "ps(): the live processes of this program: pid, name (function), state (running, sleeping, waiting), waits (what on: \"lock 3 held by 1234 (worker)\", \"get on queue 2 (empty)\", \"join 1240\") and age in seconds") { _, _ in
      reapFinished()
      reapLeaving()
      // Main leaves itself out (it is plainly running: it called ps()).
      return .list(ListRef(processList().filter { $0.pid != myPid || isChild }.map { p in
        let m = MapRef()
        m[.str("pid")] = .int(Int(p.pid))
        m[.str("name")] = .str(p.name)
        m[.str("state")] = .str(p.state)
        m[.str("waits")] = .str(p.waits)
        m[.str("age")] = .float((p.age * 1000).rounded() / 1000)
        return .map(m)
      }))
    })
    Interpreter.register(Builtin("sleep", 1, 1, "sleep(seconds): pause this process (Ctrl-C interrupts)", params: ["seconds"]) { a, _ in
      let secs: Double
      switch a[0] {
      case .int(let i): secs = Double(i)
      case .float(let d): secs = d
      default: throw MPError(.type, "sleep() needs a number of seconds, found \(a[0].typeName)")
      }
      guard secs >= 0, secs.isFinite else { throw MPError(.value, "sleep() needs a non-negative number of seconds") }
      ProcessTable.setWaiting(.sleep, timed: true)
      defer { ProcessTable.clearWaiting() }
      try interruptibleSleep(secs)
      return .nil
    })
  }

  /// One row of `ps()`.
  public struct ProcessRow: Equatable {
    public var pid: Int32
    public var name: String
    public var state: String
    public var waits: String
    public var age: Double
  }

  /// The live processes of the program, oldest first.
  public static func processList() -> [ProcessRow] {
    let table = ProcessTable.snapshot()
    var names: [Int32: String] = [:]
    for p in table { names[p.pid] = p.pid == myPid ? myName : p.name }
    return table.filter { $0.state != .exited }.sorted { $0.age > $1.age }.map { p in
      let state: String
      switch p.state {
      case .waiting: state = p.waitKind == .sleep ? "sleeping" : "waiting"
      case .exited: state = "exited"
      default: state = "running"
      }
      return ProcessRow(pid: p.pid, name: p.pid == myPid ? myName : p.name, state: state,
                        waits: p.state == .waiting ? WaitGraph.describe(p, names: names) : "", age: p.age)
    }
  }

  /// What the live children wait on, one line each, for the message of a
  /// program that failed while children still run.
  /// Workers of this process's own pools are listed only while they run a
  /// task or have their initializer to run: the end of the program closes
  /// those pools, which waits for that work and for nothing else. (An idle
  /// worker, or one still starting, which reads as running, takes the stop
  /// message as its next task.)
  public static func childrenReport() -> String? {
    var idle = Set<Int32>()
    for p in PoolHandle.open.values where !p.isClosed {
      for (i, w) in p.workers.enumerated() where i < p.size {
        if mp_atomic_load(p.slot(i)) == 0 { idle.insert(w.pid) }
      }
    }
    let rows = processList().filter { $0.pid != myPid && !idle.contains($0.pid) }
    guard !rows.isEmpty else { return nil }
    return rows.map { "  pid \($0.pid) (\($0.name)): \($0.state)\($0.waits.isEmpty ? "" : ", \($0.waits)")" }.joined(separator: "\n")
  }
}

extension Runtime {
  /// Starts recording a trace in every process of the program.
  public static func startTracing() { Trace.begin() }

  /// Stops recording; the run so far, as rows of spans.
  public static func stopTracing() -> TraceModel {
    let t0 = Trace.epoch
    let events = Trace.end()
    return TraceModel(events: events, start: t0, end: mp_now())
  }

  /// The width to draw a timeline in: the terminal's, else 100 columns.
  public static func terminalWidth(_ fd: Int32) -> Int {
    guard isatty(fd) != 0 else { return 100 }
    var ws = winsize()
    if ioctl(fd, UInt(TIOCGWINSZ), &ws) == 0, ws.ws_col >= 40 { return Int(ws.ws_col) }
    return 100
  }
}

extension Runtime {
  /// Children whose failure was already reported at a REPL prompt (not
  /// reported again when the session ends).
  nonisolated(unsafe) static var reportedFailures = Set<Int32>()

  /// At the REPL, before a prompt: the children that failed in the
  /// background since the last prompt and nobody joined, one line each
  /// (nil: none). Joining one later still raises its error.
  public static func newBackgroundFailures() -> String? {
    var out = ""
    for h in children where !h.joined && !reportedFailures.contains(h.pid) {
      guard case .failure(let e)? = h.outcome, let st = h.status, mp_wifsignaled(st) == 0 else { continue }
      reportedFailures.insert(h.pid)
      out += "mp: background \(e.message)\n"
    }
    return out.isEmpty ? nil : out
  }
}

extension Runtime {
  /// CPU seconds so far (user and system, with reaped descendants') of
  /// every live process of the program but this one, from /proc; what
  /// `time { }` and `:time` count for processes that outlive them.
  static func liveProcessCPU() -> [Int32: Double] {
    var out: [Int32: Double] = [:]
    let hz = Double(max(1, sysconf(Int32(_SC_CLK_TCK))))
    for p in ProcessTable.snapshot() where p.pid != myPid {
      guard let stat = Interpreter.readFile("/proc/\(p.pid)/stat"), let close = stat.lastIndex(of: ")") else { continue }
      // After the name: state, ppid, ... utime is the 14th field of the line.
      let fields = stat[stat.index(after: close)...].split(separator: " ")
      guard fields.count > 14, let u = Double(fields[11]), let s = Double(fields[12]),
        let cu = Double(fields[13]), let cs = Double(fields[14])
      else { continue }
      out[p.pid] = (u + s + cu + cs) / hz
    }
    return out
  }
}
