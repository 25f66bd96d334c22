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
      reapLeaving()
      return .int(Arena.shared.usedBytes)
    })
    Interpreter.register(Builtin("die_at", 2, 2, "die_at(point, n): a process forked later SIGKILLs itself the n-th time it passes point (MP_DEBUG=1 only)") { a, _ in
      guard case .str(let point) = a[0], DiePoint(rawValue: point) != nil else {
        throw MPError(.value, "die_at() point must be one of \(DiePoint.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")), found \(a[0].repr)")
      }
      guard case .int(let n) = a[1], n >= 0 else { throw MPError(.type, "die_at() needs a count >= 0 (0 disarms), found \(a[1].repr)") }
      DiePoint.armed[point] = n > 0 ? n : nil
      DiePoint.on = !DiePoint.armed.isEmpty
      return .nil
    })
    // `queue_die_at(k)`: this process ends (_exit(9)) at the k-th step of
    // queue code from now, as if killed between two of its stores, so a
    // test can stop a put or a get at every such point (QueueRing.swift).
    Interpreter.register(Builtin("queue_die_at", 1, 1, "queue_die_at(k): _exit at the k-th queue step from now (MP_DEBUG=1 only)") { a, _ in
      guard case .int(let k) = a[0] else { throw MPError(.type, "queue_die_at() needs an int") }
      QueueHandle.dieAtStep = k
      return .nil
    })
    Interpreter.register(Builtin("arena_blocks", 0, 0, "arena_blocks(): the arena's live blocks as [offset, size, what, count] (MP_DEBUG=1 only)") { _, _ in
      reapLeaving()
      return .list(ListRef(Arena.shared.liveBlocks().map { b in
        let (what, count) = describe(b.offset)
        return .list(ListRef([.int(b.offset), .int(b.size), .str(what), .int(count)]))
      }))
    })
  }

  /// What a block seems to hold: a shared object (its header says its kind
  /// and count) or "data" (a queue item, a process's record, a chunk).
  /// A guess from the bytes, good enough to find what a leak keeps.
  static func describe(_ offset: Int) -> (String, Int) {
    let names: [Int32: String] = [1: "lock", 2: "semaphore", 3: "cell", 4: "queue", 5: "event", 6: "condition",
                                  7: "barrier", 8: "array", 9: "map", 10: "pipe", 11: "pool state"]
    let p = Arena.shared.at(offset)
    let count = p.load(as: Int64.self)
    let kind = p.load(fromByteOffset: 8, as: Int32.self)
    if count >= 0, count < 1 << 20, let name = names[kind] {
      let number = p.load(fromByteOffset: 12, as: Int32.self)
      if kind == Int32(QueueHandle.kind) {
        let q = QueueHandle.describe(offset + SharedHandle.headerSize)
        return ("queue \(number) (\(q))", Int(count))
      }
      return ("\(name) \(number)", Int(count))
    }
    return ("data", 0)
  }
}

/// Named points of the runtime where MP_DEBUG's `die_at(point, n)` makes a
/// process SIGKILL itself: a death at an exact instruction, for tests of
/// what dying there leaves behind (tests/harness). Only processes forked
/// after `die_at` die (the caller is the one that checks what is left).
enum DiePoint: String, CaseIterable {
  /// A pool worker took its own count on the reply queue named in the
  /// chunk it is taking; the chunk is still queued.
  case workerTaking = "pool worker taking"
  /// The chunk has left the task queue; its block is not freed yet.
  case workerTaken = "pool worker taken"
  /// The worker has its chunk and is about to run it.
  case workerRunning = "pool worker running"
  /// The worker is about to send its chunk's results.
  case workerReplying = "pool worker replying"
  /// A process counted itself in on a shared object it received, and has
  /// not written the count down in its record yet.
  case handleCounted = "handle counted"
  /// A process crossed out its record of a count it is about to give back.
  case handleUncounted = "handle uncounted"
  /// A process was handed the block of a new shared object and has not
  /// written the object's header yet.
  case objectMade = "object made"
  /// A process taking a queue item that carries objects wrote their
  /// counts down as pending; the item is still queued.
  case itemTaking = "queue item taking"
  /// That item has left its queue; its objects are not decoded yet.
  case itemTaken = "queue item taken"
  /// A process putting an item that carries objects tagged their counts
  /// in its record as being published; the item is not in the queue yet.
  case itemPublishing = "queue item publishing"
  /// A process gave back the last count on an object and is about to
  /// free it (its finalizer has not begun).
  case objectFreeing = "object freeing"
  /// The object's finalizer is done; its block is not freed yet.
  case objectFinalized = "object finalized"

  @exclusivity(unchecked) nonisolated(unsafe) static var on = false
  nonisolated(unsafe) static var armed: [String: Int] = [:]

  @inline(__always) func reach() {
    if DiePoint.on { DiePoint.count(self) }
  }

  private static func count(_ p: DiePoint) {
    guard Runtime.isChild, let n = armed[p.rawValue] else { return }
    if n <= 1 {
      Glibc.kill(getpid(), SIGKILL)
    }
    armed[p.rawValue] = n - 1
  }
}

extension QueueHandle {
  /// For `arena_blocks()`: a queue's item count, and whether it is closed.
  static func describe(_ payloadOffset: Int) -> String {
    let p = Arena.shared.at(payloadOffset)
    let n = itemCount(p)
    let closed = p.load(fromByteOffset: closedOff, as: Int32.self) != 0
    return "\(n) items\(closed ? ", closed" : "")"
  }
}
