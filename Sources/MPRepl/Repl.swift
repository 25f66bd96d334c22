import MPLanguage
import Glibc

/// The REPL's entry points. With stdin not a terminal it reads statements
/// without prompts or line editing, echoes bare expressions, reports errors
/// and goes on; the exit status is 1 if any statement failed.
public enum Repl {
  /// Runs the REPL on stdin; returns the process exit status.
  public static func run(_ interp: Interpreter) -> Int32 {
    var session = PipedSession(interp)
    return session.run()
  }
}
