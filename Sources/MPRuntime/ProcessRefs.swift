import CMPShim
import Glibc
import MPLanguage

/// The references to arena objects this process holds, written down in the
/// arena so that whoever reaps the process gives them back — however it
/// died (docs/reference.md, "Processes that die"). A SIGKILLed child runs
/// no code at its end; without this record every object it referred to
/// (a queue full of items, a lock it held) would stay for ever.
///
/// The record is a chain of chunks: [next chunk][entries used][entries...].
/// Only this process writes it; its reaper reads it after it has died. An
/// entry is added after the object's count went up and zeroed before the
/// count goes down, so a death between the two steps can only leak a
/// count, never give one back twice. The main process keeps no record:
/// when it ends, the whole arena ends with it.
enum ProcessRefs {
  static let capacity = 254
  static let chunkSize = 16 + 8 * capacity

  /// This process's first chunk (0: no record, as in the main process).
  @exclusivity(unchecked) nonisolated(unsafe) static var first = 0
  /// The chunk entries are appended to.
  @exclusivity(unchecked) nonisolated(unsafe) static var tail = 0
  /// Entries crossed out, to be written again before the record grows: a
  /// process that takes and drops handles for ever (a pool worker decoding
  /// each call's reply queue) keeps a record of constant size.
  @exclusivity(unchecked) nonisolated(unsafe) static var crossedOut: [Int] = []

  /// An entry this process may write, already counted in its chunk and
  /// still 0 (its reaper skips it); 0 when no record is kept. Taken before
  /// the count goes up, so that only one store is left between the count
  /// and its note.
  static func reserve() -> Int {
    guard tail != 0 else { return 0 }
    if let at = crossedOut.popLast() { return at }
    var used = Int(Arena.shared.word(tail + 8).pointee)
    if used == capacity {
      // Linked as the arena hands it out (its journal finishes the link for
      // a process that dies inside), so the reaper always finds it.
      guard let next = try? Arena.shared.allocate(chunkSize, storeIn: Arena.shared.word(tail)) else { return 0 }
      tail = next
      used = 0
    }
    Arena.shared.word(tail + 8).pointee = Int64(used + 1)
    return tail + 16 + 8 * used
  }

  /// Writes `offset` down at a reserved entry (right after its count went up).
  @inline(__always)
  static func write(_ at: Int, _ offset: Int) {
    if at > 0 { Arena.shared.word(at).pointee = Int64(offset) }
  }

  /// Writes `offset` down; returns where (0 when no record is kept).
  @discardableResult
  static func add(_ offset: Int) -> Int {
    let at = reserve()
    write(at, offset)
    return at
  }

  /// Crosses out the entry at `at`, right before the count it stands for
  /// goes down; `recycle` it once the count is down.
  @inline(__always)
  static func remove(_ at: Int) {
    if at > 0 { Arena.shared.word(at).pointee = 0 }
  }

  /// A crossed-out entry may be written again.
  static func recycle(_ at: Int) {
    if at > 0 { crossedOut.append(at) }
  }

  /// Before a fork: a new record for the child, holding `offsets` (whose
  /// counts the caller has already raised). Returns its first chunk and
  /// where each offset was written, in order.
  static func recordForChild(_ offsets: [Int]) throws -> (first: Int, tail: Int, slots: [Int]) {
    let first = try Arena.shared.allocate(chunkSize)
    var chunk = first, used = 0
    var slots: [Int] = []
    slots.reserveCapacity(offsets.count)
    for off in offsets {
      if used == capacity {
        let next = try Arena.shared.allocate(chunkSize)
        Arena.shared.word(chunk).pointee = Int64(next)
        Arena.shared.word(chunk + 8).pointee = Int64(used)
        chunk = next
        used = 0
      }
      let at = chunk + 16 + 8 * used
      Arena.shared.word(at).pointee = Int64(off)
      slots.append(at)
      used += 1
    }
    Arena.shared.word(chunk + 8).pointee = Int64(used)
    return (first, chunk, slots)
  }

  /// In the child right after fork: its record is the one made for it.
  static func adopt(first f: Int, tail t: Int) {
    first = f
    tail = t
    if !crossedOut.isEmpty { crossedOut = [] }
  }

  /// By the reaper, once the process is dead: gives back every count its
  /// record holds and frees the record.
  static func releaseAll(_ f: Int) {
    // A count change the process died in the middle of is finished (or
    // undone) by the arena's repair, entry included: before reading them.
    Arena.shared.settle()
    var chunk = f
    var steps = 0
    while chunk != 0 && steps < 1 << 20 {
      let used = min(capacity, max(0, Int(Arena.shared.word(chunk + 8).pointee)))
      for i in 0..<used {
        let at = chunk + 16 + 8 * i
        let off = Int(Arena.shared.word(at).pointee)
        if off != 0 {
          Arena.shared.word(at).pointee = 0
          // Kind 0: an object whose maker died before writing its header.
          if Arena.shared.at(off).load(fromByteOffset: 8, as: Int32.self) == 0 {
            Arena.shared.free(off)
          } else {
            SharedHandle.release(off)
          }
        }
      }
      let next = Int(Arena.shared.word(chunk).pointee)
      Arena.shared.free(chunk)
      chunk = next
      steps += 1
    }
  }
}
