import CMPShim
import Glibc
import MPLanguage

/// What both front ends (terminal and pipe) share: one interpreter, the
/// `:` commands, line numbers running across the whole session so an error
/// in the fifth entry points at a meaningful line, and whether anything failed.
final class Session {
  enum Outcome: Equatable {
    case next
    case exit(Int32)
  }

  static let commands = [":help", ":time", ":trace", ":ps", ":load", ":reset", ":quit", ":quit!"]

  let interp: Interpreter
  let interactive: Bool
  /// The name errors give the session's own lines.
  let file: String
  private(set) var failed = false
  private(set) var nextLine = 1

  init(_ interp: Interpreter, interactive: Bool) {
    self.interp = interp
    self.interactive = interactive
    self.file = interactive ? "<repl>" : "<stdin>"
    interp.echo = Session.echoValue
  }

  private static let echoValue: (Value) -> Void = { v in writeAll(1, v.repr + "\n") }

  /// Whether `text` must wait for more lines: a bracket, string or block is
  /// still open. A command is complete at once, except `:time` whose
  /// statement may span lines.
  func needsMore(_ text: String) -> Bool {
    let trimmed = text.trimmingWhitespace()
    if trimmed.hasPrefix(":") {
      guard let (name, arg) = Session.splitCommand(trimmed), name == ":time" || name == ":trace", !arg.isEmpty else { return false }
      return Completeness.of(arg, firstLine: nextLine) == .incomplete
    }
    return Completeness.of(text, firstLine: nextLine) == .incomplete
  }

  /// Runs one entry of `lineCount` lines (a statement group or a command).
  func handle(_ text: String, lineCount: Int) -> Outcome {
    let firstLine = nextLine
    nextLine += max(1, lineCount)
    let trimmed = text.trimmingWhitespace()
    if trimmed.isEmpty { return .next }
    if trimmed.hasPrefix(":"), let (name, arg) = Session.splitCommand(trimmed) {
      return command(name, arg, text: text, firstLine: firstLine)
    }
    return run(text, file: file, firstLine: firstLine)
  }

  /// Leaving (Ctrl-D, `:quit`, end of piped input): waits for children still
  /// running, as a script's end does. nil: the wait was interrupted, stay.
  func leave() -> Outcome? {
    let n = Repl.runtime.liveChildren(interp)
    if interactive && n > 0 {
      writeAll(2, "waiting for \(n) child process\(n == 1 ? "" : "es") to end (Ctrl-C to go back to the prompt, then :quit! kills them)\n")
    }
    mp_interrupt_flag = 0
    do {
      try interp.runScriptEnd()
    } catch let e as MPError where e.kind == .interrupt {
      writeAll(2, "interrupted\n")
      // At a prompt the user may still :quit! or join; a pipe has no prompt.
      if interactive { return nil }
      interp.runInterruptHooks()
      return .exit(130)
    } catch let e as MPError {
      report(e)
    } catch let x as ExitRequest {
      return .exit(x.code)
    } catch {
      writeAll(2, "error: \(error)\n")
      failed = true
    }
    if interactive { return .exit(0) }
    return .exit(failed ? 1 : 0)
  }

  // MARK: commands

  /// `:name rest` split at the first blank; the argument keeps its inner layout.
  static func splitCommand(_ s: String) -> (String, String)? {
    guard s.hasPrefix(":") else { return nil }
    guard let blank = s.firstIndex(where: { $0 == " " || $0 == "\t" || $0 == "\n" }) else { return (s, "") }
    return (String(s[..<blank]), String(s[blank...]).trimmingWhitespace())
  }

  private func command(_ name: String, _ arg: String, text: String, firstLine: Int) -> Outcome {
    switch name {
    case ":help":
      writeAll(1, Session.helpText())
      return .next
    case ":time":
      guard !arg.isEmpty else { return usage(":time STATEMENT") }
      // Blank out the command so columns in error messages match what was typed.
      let statement = Session.blankingCommand(text)
      let mark = Timing.start(interp)
      let outcome = run(statement, file: file, firstLine: firstLine)
      writeAll(2, Timing.line(since: mark, interp) + "\n")
      return outcome
    case ":trace":
      guard !arg.isEmpty else { return usage(":trace STATEMENT") }
      let statement = Session.blankingCommand(text)
      Repl.runtime.traceStart()
      let outcome = run(statement, file: file, firstLine: firstLine)
      let width = Session.terminalWidth()
      writeAll(1, Repl.runtime.traceStop(width, interactive && isatty(1) != 0))
      return outcome
    case ":ps":
      guard arg.isEmpty else { return usage(":ps") }
      writeAll(1, Session.processTable(interp))
      return .next
    case ":load":
      guard !arg.isEmpty else { return usage(":load FILE") }
      return load(Session.unquote(arg))
    case ":reset":
      interp.reset()
      if interactive { writeAll(1, "session reset: every binding is gone\n") }
      return .next
    case ":quit":
      guard arg.isEmpty else { return usage(":quit") }
      return leave() ?? .next
    case ":quit!":
      guard arg.isEmpty else { return usage(":quit!") }
      Repl.runtime.killAll(interp)
      return leave() ?? .exit(0)
    default:
      writeAll(2, "unknown command '\(name)'; the commands are \(Session.commands.joined(separator: " ")) (:help explains them)\n")
      failed = true
      return .next
    }
  }

  private func usage(_ form: String) -> Outcome {
    writeAll(2, "usage: \(form)\n")
    failed = true
    return .next
  }

  private func load(_ path: String) -> Outcome {
    var expanded = path
    if path.hasPrefix("~/"), let home = Completer.homeDirectory() { expanded = home + path.dropFirst(1) }
    guard let source = Interpreter.readFile(expanded) else {
      let reason = String(cString: strerror(errno == 0 ? ENOENT : errno))
      writeAll(2, "cannot load '\(path)': \(reason)\n")
      failed = true
      return .next
    }
    // A loaded file runs like a script's top level: its bare expressions
    // are not echoed.
    let echo = interp.echo
    interp.echo = nil
    defer { interp.echo = echo }
    return run(source, file: expanded, firstLine: 1)
  }

  /// Runs code in the session; reports errors and keeps going.
  private func run(_ source: String, file: String, firstLine: Int) -> Outcome {
    mp_interrupt_flag = 0
    defer { mp_interrupt_flag = 0 }
    do {
      try interp.runEntry(source, file: file, firstLine: firstLine)
    } catch let e as MPError where e.kind == .interrupt {
      interp.runInterruptHooks()
      writeAll(2, Session.terminalEchoedControlChars() ? "\ninterrupted\n" : "interrupted\n")
      failed = true
      // Without a prompt to come back to, an interrupt ends the session.
      if !interactive { return .exit(130) }
    } catch let e as MPError {
      report(e)
    } catch let x as ExitRequest {
      return .exit(x.code)
    } catch {
      writeAll(2, "error: \(error)\n")
      failed = true
    }
    return .next
  }

  private func report(_ e: MPError) {
    writeAll(2, e.render(color: interactive && isatty(2) != 0))
    failed = true
  }

  /// Whether the terminal already echoed `^C` (ECHOCTL), leaving the cursor
  /// after it: then "interrupted" needs a line of its own.
  static func terminalEchoedControlChars() -> Bool {
    var t = termios()
    guard isatty(0) != 0, tcgetattr(0, &t) == 0 else { return false }
    return t.c_lflag & tcflag_t(ECHO) != 0 && t.c_lflag & tcflag_t(ECHOCTL) != 0
  }

  /// `:ps`: the live child processes as a table, from the `ps()` built-in
  /// the runtime provides.
  static func processTable(_ interp: Interpreter) -> String {
    guard let ps = Interpreter.builtins["ps"], case .list(let l)? = try? ps.fn([], interp) else {
      return "no process information (the runtime is not loaded)\n"
    }
    var rows: [[String]] = []
    var others = 0
    for item in l.items {
      guard case .map(let m) = item else { continue }
      var age = "?"
      if case .float(let a)? = m[.str("age")] { age = FormatSpec_age(a) }
      if case .int(let pid)? = m[.str("pid")], pid != Int(getpid()) { others += 1 }
      rows.append([m[.str("pid")]?.str ?? "?", m[.str("name")]?.str ?? "?", m[.str("state")]?.str ?? "?",
                   m[.str("waits")]?.str ?? "", age])
    }
    if others == 0 { return "no child processes\n" }
    let header = ["PID", "FUNCTION", "STATE", "WAITING ON", "AGE"]
    var widths = header.map(\.count)
    for r in rows { for (i, c) in r.enumerated() { widths[i] = max(widths[i], c.count) } }
    func line(_ r: [String]) -> String {
      var out = ""
      for (i, c) in r.enumerated() {
        out += i == r.count - 1 ? c : c + String(repeating: " ", count: widths[i] - c.count + 2)
      }
      return out + "\n"
    }
    return line(header) + rows.map(line).joined()
  }

  /// `:time S` or `:trace S` with the command blanked out, so columns in
  /// error messages match what was typed.
  static func blankingCommand(_ text: String) -> String {
    var s = Substring(text)
    var prefix = ""
    while let c = s.first, c == " " || c == "\t" { prefix.append(c); s = s.dropFirst() }
    for command in [":trace", ":time"] where s.hasPrefix(command) {
      return prefix + String(repeating: " ", count: command.count) + s.dropFirst(command.count)
    }
    return text
  }

  /// The terminal's width (stdout), or 100 columns.
  static func terminalWidth() -> Int {
    guard isatty(1) != 0 else { return 100 }
    var ws = winsize()
    if ioctl(1, UInt(TIOCGWINSZ), &ws) == 0, ws.ws_col >= 40 { return Int(ws.ws_col) }
    return 100
  }

  static func unquote(_ s: String) -> String {
    if s.count >= 2, let f = s.first, f == "\"" || f == "'", s.last == f {
      return String(s.dropFirst().dropLast())
    }
    return s
  }

  static func helpText() -> String {
    var out = """
      Commands:
        :help            this help
        :time STATEMENT  run STATEMENT, then print to stderr its wall time, this process's CPU,
                         children's CPU, processes and parallelism; children's CPU counts the
                         children that ended inside the statement and what processes still
                         running (an existing pool's workers) used during it
        :trace STATEMENT run STATEMENT recording what every process does, then draw the timeline:
                         one row per process, marks for running, sleeping, waiting (on what) and
                         holding a lock, a time axis and a legend
        :ps              the live processes: pid, function, state (running, sleeping, waiting),
                         what each waits on (lock 3 held by 1234 (worker), join 1240...) and age
        :load FILE       run FILE's top level in this session; its globals stay defined
        :reset           forget every binding made in this session
        :quit            leave, after waiting for child processes still running (also Ctrl-D)
        :quit!           leave now, killing child processes still running
      Keys: Tab completes names, methods after '.', commands and file names; Up/Down walk the
      history and Ctrl-R searches it; Ctrl-C clears the line or stops the running statement.

      Built-ins:

      """
    // Each doc already starts with the call's shape (`len(x): ...`).
    for b in Interpreter.builtins.values.sorted(by: { $0.name < $1.name }) {
      let summary = b.doc.split(separator: "\n", maxSplits: 1).first.map(String.init) ?? ""
      out += summary.hasPrefix(b.name) ? "  \(summary)\n" : "  \(b.name): \(summary)\n"
    }
    return out
  }
}

/// "1.2 s", "3 min 4 s".
func FormatSpec_age(_ seconds: Double) -> String {
  if seconds < 60 { return formatFloat((seconds * 10).rounded() / 10) + " s" }
  let m = Int(seconds) / 60
  return "\(m) min \(Int(seconds) % 60) s"
}
