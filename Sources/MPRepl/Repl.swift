import CMPShim
import Glibc
import MPLanguage

/// The REPL of SPEC §7. On a terminal it edits lines with libedit (history,
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

  /// Seams the concurrency runtime fills in. The REPL itself starts no
  /// processes, so until the runtime sets these they do nothing: nothing is
  /// pretended to be killed or waited for.
  public struct RuntimeHooks {
    /// Pids of child processes still running (for the message on leaving).
    public var liveChildren: () -> [Int32] = { [] }
    /// Called after a statement stopped by Ctrl-C: kill the processes and pool
    /// workers it started.
    public var statementInterrupted: () -> Void = {}
    /// `:quit!`: kill every live child before leaving.
    public var killAll: () -> Void = {}
    /// Called before each prompt: reap children that finished in the background.
    public var beforePrompt: () -> Void = {}

    public init() {}
  }

  /// Filled by the runtime at start-up (see `RuntimeHooks`).
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
    writeAll(1, "mp — :help for commands and built-ins, Ctrl-D to leave\n")
    while true {
      Repl.runtime.beforePrompt()
      let input = editor.readEntry(prompt: "mp> ", continuation: "...> ", needsMore: session.needsMore)
      let outcome: Session.Outcome?
      switch input {
      case .interrupt:
        continue
      case .eof:
        writeAll(1, "\n")
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
