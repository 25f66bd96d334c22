import CMPShim
import Glibc
import MPLanguage

extension Runtime {
  /// Introspection for the reliability harness (tests/harness): only with
  /// MP_DEBUG=1 in the environment, so programs never come to rely on it
  /// and the manual's list of built-ins stays the user's.
  ///
  /// `arena_used()`: bytes of the shared arena held by live objects (every
  /// process's), so the chaos driver can check that killed processes gave
  /// back what they held.
  public static func registerDebugBuiltinsIfAsked() {
    guard let v = getenv("MP_DEBUG"), String(cString: v) == "1" else { return }
    Interpreter.register(Builtin("arena_used", 0, 0, "arena_used(): bytes of the shared arena in use (MP_DEBUG=1 only)") { _, _ in
      .int(Arena.shared.usedBytes)
    })
  }
}
