import CMPShim
import Glibc
import MPLanguage

/// A robust process-shared mutex in the arena, paired with a "dirty" word
/// that is 1 exactly while some process is inside the critical section.
///
/// Any process can die at any instruction (docs/reference.md, "Processes
/// that die"). A dead holder's robust mutex is handed to the next locker,
/// but the structure it guarded may be half-changed; the dirty word tells
/// the next locker so, and keeps telling the one after if the repair itself
/// is cut short. Every structure guarded this way has a repair that is
/// idempotent and works from whatever state a single store can leave.
struct SharedMutex {
  /// The pthread_mutex_t (48 bytes reserved).
  let mutex: UnsafeMutableRawPointer
  /// 1 while a holder is inside the critical section.
  let dirty: UnsafeMutablePointer<Int32>

  init(mutex: UnsafeMutableRawPointer, dirty: UnsafeMutableRawPointer) {
    self.mutex = mutex
    self.dirty = dirty.assumingMemoryBound(to: Int32.self)
  }

  /// Initialises a new mutex (in freshly allocated, zeroed memory).
  func initialise(_ what: String) throws {
    let rc = mp_mutex_init(mutex)
    if rc != 0 { throw MPError(.process, "cannot create \(what): \(String(cString: strerror(rc)))") }
    mp_atomic_store32(dirty, 0)
  }

  /// Takes the mutex. Returns true when the previous holder died inside
  /// the critical section: the caller must repair before going on. With
  /// `interruptible`, a Ctrl-C while waiting raises an `"interrupt"` error.
  func lock(_ what: @autoclosure () -> String, interruptible: Bool = true) throws -> Bool {
    let holderDied = try SharedMutex.take(mutex, what(), interruptible: interruptible)
    let wasDirty = dirty.pointee != 0
    // Ordered before the critical section's stores; the mutex orders it
    // for the next holder (a seq_cst store here cost more than the lock).
    mp_store_first32(dirty, 1)
    return holderDied || wasDirty
  }

  /// Takes the robust mutex at `m` — the one place that does, for every
  /// internal lock of the arena's structures (a user's `lock()` has its own
  /// timed path). Returns true when the previous holder had died holding
  /// it. With `interruptible`, a Ctrl-C while waiting raises `"interrupt"`;
  /// without, the flag stays set for the caller's next check.
  static func take(_ m: UnsafeMutableRawPointer, _ what: @autoclosure () -> String,
                   interruptible: Bool = true) throws -> Bool {
    while true {
      let rc = mp_mutex_lock(m, -1)
      if rc == 0 || rc == 1 { return rc == 1 }
      if rc == EINTR {
        if !interruptible { continue }
        mp_interrupt_flag = 0
        throw MPError(.interrupt, "interrupted")
      }
      throw MPError(.process, "locking \(what()) failed: \(String(cString: strerror(rc)))")
    }
  }

  /// Leaves the critical section: the structure is whole again.
  func unlock() {
    mp_store_release32(dirty, 0)
    _ = mp_mutex_unlock(mutex)
  }
}
