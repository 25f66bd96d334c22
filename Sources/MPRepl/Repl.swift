import CMPShim
import Glibc
import MPLanguage

/// The REPL (docs/reference.md, "The REPL"). On a terminal it edits lines with libedit (history,
/// completion, continuation prompts); with stdin not a terminal it reads
/// statements without prompts or line editing, echoes bare expressions,
/// reports errors and goes on, and its exit status is 1 if any statement failed.
public enum Repl {
  /// Runs the REPL on stdin; returns the process exit status.
  public static func run(_ interp: Interpreter) -> Int32 {
    if isatty(0) != 0 {
      return InteractiveSession(interp, historyPath: LineEditor.defaultHistoryPath()).run()
    }
    var session = PipedSession(interp)
    return session.run()
  }

  /// Seams for the concurrency runtime, which the REPL cannot import. A
  /// statement stopped by Ctrl-C needs none: the REPL runs
  /// `Interpreter.runInterruptHooks()`, where the runtime kills what the
  /// statement started.
  public struct RuntimeHooks {
    /// How many child processes are still running (for the message on
    /// leaving). By default it asks the `ps()` built-in, when the runtime
    /// registered one, for the processes not yet exited.
    public var liveChildren: (Interpreter) -> Int = { interp in
      guard let ps = Interpreter.builtins["ps"], case .list(let l)? = try? ps.fn([], interp) else { return 0 }
      return l.items.filter { item in
        guard case .map(let m) = item, case .str(let state)? = m[.str("state")] else { return false }
        if case .int(let pid)? = m[.str("pid")], pid == Int(getpid()) { return false }
        return state != "exited"
      }.count
    }
    /// `:quit!`: kill every live child before leaving. By default the
    /// interrupt hooks, which the runtime fills with "kill the children".
    public var killAll: (Interpreter) -> Void = { $0.runInterruptHooks() }
    /// Called before each prompt: reap children that finished in the
    /// background; returns what to report about them (a failure), if anything.
    public var beforePrompt: () -> String? = { nil }
    /// `:trace`: start recording every process's events.
    public var traceStart: () -> Void = {}
    /// `:trace`: stop recording and draw the timeline in `width` columns
    /// (colour when `color`).
    public var traceStop: (_ width: Int, _ color: Bool) -> String = { _, _ in "tracing needs the runtime\n" }

    public init() {}
  }

  /// Filled by the program that starts the REPL (see `RuntimeHooks`).
  nonisolated(unsafe) public static var runtime = RuntimeHooks()
}

/// The REPL on a terminal.
final class InteractiveSession {
  let session: Session
  let editor: LineEditor

  init(_ interp: Interpreter, historyPath: String?) {
    session = Session(interp, interactive: true)
    editor = LineEditor(
      historyPath: historyPath, historyLimit: 1000,
      completer: Completer(interpreter: interp, commands: Session.commands))
  }

  func run() -> Int32 {
    writeAll(editor.outputFD, "mp — :help for commands and built-ins, Ctrl-D to leave\n")
    while true {
      if let news = Repl.runtime.beforePrompt() { writeAll(2, news) }
      let input = editor.readEntry(prompt: "mp> ", continuation: "...> ", needsMore: session.needsMore)
      let outcome: Session.Outcome?
      switch input {
      case .interrupt:
        continue
      case .eof:
        writeAll(editor.outputFD, "\n")
        outcome = session.leave()
      case .entry(let text):
        outcome = session.handle(text, lineCount: text.split(separator: "\n", omittingEmptySubsequences: false).count)
      }
      if case .exit(let code)? = outcome {
        editor.saveHistory()
        return code
      }
    }
  }
}
