import CMPShim
import Glibc
import MPLanguage

/// Waiting helpers shared by events, conditions, barriers and pipes. Every
/// wait sleeps on a futex word in the arena in slices of at most 100 ms, so
/// Ctrl-C, deadlines and dead processes are noticed however long it waits.
enum SyncWait {
  /// Sleeps while `word` still holds `expected`, for one slice (less if the
  /// deadline is nearer). Returns false once the deadline has passed.
  /// Raises "interrupt" on Ctrl-C.
  static func slice(_ word: UnsafeMutablePointer<Int32>, _ expected: Int32, deadline: Double?,
                    maxSlice: Double = 0.1) throws -> Bool {
    var slice = maxSlice
    if let deadline {
      let left = deadline - mp_now()
      if left <= 0 { return false }
      slice = min(slice, left)
    }
    // The flag is checked before and after: a Ctrl-C that came just before
    // the wait started interrupts no system call.
    try checkInterrupt()
    _ = mp_futex_wait(word, expected, slice)
    try checkInterrupt()
    // Between slices of a wait without a timeout, main looks for a deadlock.
    if deadline == nil { try ProcessTable.waitSlice() }
    return true
  }

  static func checkInterrupt() throws {
    if mp_interrupt_flag != 0 {
      mp_interrupt_flag = 0
      throw MPError(.interrupt, "interrupted")
    }
  }

  /// Takes an object's internal robust mutex. A holder that died mid-update
  /// leaves it to the next taker; every update is written so that a half-done
  /// one is still a consistent state.
  static func lock(_ m: UnsafeMutableRawPointer) throws {
    _ = try SharedMutex.take(m, "an internal lock")
  }

  /// The same, for clean-up that must happen even after Ctrl-C: the flag
  /// stays set for the caller's next check.
  static func lockThroughInterrupt(_ m: UnsafeMutableRawPointer) {
    _ = try? SharedMutex.take(m, "an internal lock", interruptible: false)
  }

  static func unlock(_ m: UnsafeMutableRawPointer) { _ = mp_mutex_unlock(m) }

  /// Whether `pid` has ended (gone, or a zombie not yet reaped).
  static func isGone(_ pid: Int32) -> Bool {
    pid > 0 && PoolHandle.isGone(pid)
  }

  static func deadline(_ timeout: Double?) -> Double? { timeout.map { mp_now() + $0 } }
}

/// Argument count checks for methods: `name() takes 0 to 1 arguments, got 3`.
func methodArity(_ name: String, _ args: [Value], _ lo: Int, _ hi: Int) throws {
  if args.count < lo || args.count > hi {
    let range = lo == hi ? "\(lo)" : "\(lo) to \(hi)"
    throw MPError(.type, "\(name)() takes \(range) argument\(hi == 1 ? "" : "s"), got \(args.count)")
  }
}
