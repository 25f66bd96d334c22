import CMPShim
import Glibc
import MPLanguage

/// The references to arena objects this process holds, written down in the
/// arena so that whoever reaps the process gives them back — however it
/// died (docs/reference.md, "Processes that die"). A SIGKILLed child runs
/// no code at its end; without this record every object it referred to
/// (a queue full of items, a lock it held) would stay for ever.
///
/// The record is a chain of chunks: [next chunk][entries used][the
/// hand-over note: queue, item][entries...] (the note in the first only).
/// Only this process writes it; its reaper reads it after it has died. An
/// entry is added after the object's count went up and zeroed before the
/// count goes down, so a death between the two steps can only leak a
/// count, never give one back twice. The main process keeps no record:
/// when it ends, the whole arena ends with it.
enum ProcessRefs {
  static let capacity = 252
  static let entriesOff = 32
  static let chunkSize = entriesOff + 8 * capacity
  static let noteQueueOff = 16, noteItemOff = 24

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
    return tail + entriesOff + 8 * used
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
      let at = chunk + entriesOff + 8 * used
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

  // MARK: taking a queue item that carries counts

  /// Set in an entry written for a count that a queue item still holds:
  /// it is this record's only if the note's item has left its queue.
  static let pendingTag: Int64 = 1 << 62

  /// The entries an item's counts were written at, beside their objects.
  struct TakeOver {
    var entries: [Int]
    var offsets: [Int]
    var queue: Int
  }

  /// Under the queue's get lock, before item `item` of the queue object
  /// at `queue` leaves it: one entry for each count the item carries on
  /// the objects at `offsets`, tagged pending, and the note naming the
  /// item. The store that takes the item out of the queue (its get count)
  /// is then the one store that moves every count to this record: until
  /// it, the reaper of a process that died here skips the pending entries
  /// (the item, with its counts, is still queued for the next getter);
  /// after it, they are this record's. Returns the entries, or nil when
  /// the record cannot grow (the arena is full): the counts then travel
  /// in the item's bytes as they always did, unrecorded.
  static func beginTakeOver(queue: Int, item: Int, offsets: [Int]) -> TakeOver? {
    guard first != 0 else { return nil }
    var entries: [Int] = []
    entries.reserveCapacity(offsets.count)
    for _ in offsets {
      let at = reserve()
      guard at > 0 else {
        for e in entries { recycle(e) }
        return nil
      }
      entries.append(at)
    }
    writeNote(queue: queue, item: item, publishing: false)
    for (at, off) in zip(entries, offsets) { Arena.shared.word(at).pointee = Int64(off) | pendingTag }
    DiePoint.itemTaking.reach()
    return TakeOver(entries: entries, offsets: offsets, queue: queue)
  }

  /// The note naming the item being handed over, first named in the
  /// queue's own word for that side (QueueRing: getNoteOff, putNoteOff).
  /// Why both: "the item has passed" is read from the queue's counter, and
  /// once the lock of a process that died before its commit store is taken
  /// over, other processes move that counter past the same item number.
  /// So whoever repairs the lock first settles the note (`settleNote`),
  /// before anything moves; and the reaper reads it under that lock.
  /// The note first, then the queue's word: the word names a note only
  /// while that note is set (it goes first, `clearNote`), and the lock's
  /// repair, which a dead holder's reaper always makes before it frees
  /// the record, clears it. Entries are tagged only once both are set.
  private static func writeNote(queue: Int, item: Int, publishing: Bool) {
    Arena.shared.word(first + noteItemOff).pointee = Int64(item)
    Arena.shared.word(first + noteQueueOff).pointee = Int64(queue) | (publishing ? 1 : 0)
    QueueHandle.noteWord(queue, publishing: publishing).pointee = Int64(first + noteQueueOff)
  }

  /// Before the note goes (after the commit store, where the counter stays
  /// past the item for good, or once no entry depends on the note).
  private static func clearNote(queue: Int, publishing: Bool) {
    QueueHandle.noteWord(queue, publishing: publishing).pointee = 0
  }

  /// Settled notes: the item passed (any counter is above it) or not (none is).
  static let passed = Int64.min, notPassed = Int64.max

  /// By a process repairing a queue's lock after its holder died (nothing
  /// has moved since): the note the queue's word names, if it is about
  /// this queue and side, is settled by the counter as the dead holder left it.
  static func settleNote(_ noteWord: UnsafeMutablePointer<Int64>, queue: Int, publishing: Bool, counter: Int64) {
    let at = Int(noteWord.pointee)
    guard at != 0 else { return }
    if Arena.shared.word(at).pointee == Int64(queue) | (publishing ? 1 : 0) {
      let item = Arena.shared.word(at + 8)
      if item.pointee != passed && item.pointee != notPassed {
        item.pointee = counter > item.pointee ? passed : notPassed
      }
    }
    noteWord.pointee = 0
  }

  /// Right after the item left its queue: its counts are this record's
  /// (pending entries already were, as the note's item has gone); the
  /// entries become plain before the note goes, and the decoding uses
  /// them (SharedHandle.owned).
  static func finishTakeOver(_ t: TakeOver) {
    clearNote(queue: t.queue, publishing: false)
    for (at, off) in zip(t.entries, t.offsets) {
      Arena.shared.word(at).pointee = Int64(off)
      SharedHandle.owned[off, default: []].append(at)
    }
    Arena.shared.word(first + noteQueueOff).pointee = 0
  }

  // MARK: putting an item that carries counts

  /// Set in an entry written for a count that a message being put holds:
  /// it is this record's only if the note's item has not been published.
  static let publishingTag: Int64 = 1 << 60

  /// A message's counts (Encoder.countedValue), and their entries (0: none).
  struct Publish {
    var entries: [Int]
    var offsets: [Int]
  }

  /// Under the queue's put lock, before item `item` is published: its
  /// counts, this record's since they were taken, are tagged as being
  /// published, under the note naming the item. The store that publishes
  /// it (the put count) is then the one store that makes them the queue's:
  /// a reaper gives them back if the item was not published, and leaves
  /// them to the item if it was.
  static func beginPublish(queue: Int, item: Int, _ p: Publish) {
    guard first != 0 else { return }
    writeNote(queue: queue, item: item, publishing: true)
    for (at, off) in zip(p.entries, p.offsets) where at > 0 {
      Arena.shared.word(at).pointee = Int64(off) | publishingTag
    }
    DiePoint.itemPublishing.reach()
  }

  /// Right after the item was published: the counts are the item's; the
  /// entries are crossed out before the note goes.
  static func finishPublish(queue: Int, _ p: Publish) {
    clearNote(queue: queue, publishing: true)
    for at in p.entries where at > 0 { Arena.shared.word(at).pointee = 0 }
    Arena.shared.word(first + noteQueueOff).pointee = 0
    for at in p.entries where at > 0 { recycle(at) }
  }

  /// The put failed before publishing: the counts stay this record's (the
  /// caller gives them back).
  static func abortPublish(queue: Int, _ p: Publish) {
    // Plain first: then no entry depends on the note.
    for (at, off) in zip(p.entries, p.offsets) where at > 0 { Arena.shared.word(at).pointee = Int64(off) }
    clearNote(queue: queue, publishing: true)
    Arena.shared.word(first + noteQueueOff).pointee = 0
  }

  /// For the reaper: whether the item a dead process's note names has left
  /// its queue (`taken`), and whether it was ever published. The queue is
  /// still there: the process held it (its count is in this record, given
  /// back only after this look). Read under the queue's lock for that side,
  /// whose repair settles the note first if it was never taken over. Were
  /// the queue gone, its items' counts went with it: nothing pending is
  /// this record's, and what was being published still is.
  static func noteItem(_ f: Int) -> (taken: Bool, published: Bool) {
    let named = Int(Arena.shared.word(f + noteQueueOff).pointee)
    guard named != 0 else { return (false, false) }
    let q = named & ~1, publishing = named & 1 != 0
    let isQueue = Arena.shared.ifLiveBlock(q) {
      Arena.shared.at(q).load(fromByteOffset: 8, as: Int32.self) == Int32(QueueHandle.kind)
    } ?? false
    guard isQueue else { return (false, false) }
    let passed = QueueHandle.underLock(q, publishing: publishing) { counter -> Bool in
      let item = Arena.shared.word(f + noteItemOff).pointee
      return item == ProcessRefs.passed || (item != ProcessRefs.notPassed && counter > item)
    } ?? false
    return publishing ? (false, passed) : (passed, false)
  }

  /// By the reaper, once the process is dead: gives back every count its
  /// record holds and frees the record.
  static func releaseAll(_ f: Int) {
    // A count change the process died in the middle of is finished (or
    // undone) by the arena's repair, entry included: before reading them.
    Arena.shared.settle()
    // Before any count goes: the queue the note names must still be there.
    let (taken, published) = f != 0 ? noteItem(f) : (false, false)
    var chunk = f
    var steps = 0
    while chunk != 0 && steps < 1 << 20 {
      let used = min(capacity, max(0, Int(Arena.shared.word(chunk + 8).pointee)))
      for i in 0..<used {
        let at = chunk + entriesOff + 8 * i
        var off = Int(Arena.shared.word(at).pointee)
        if off & Int(Arena.freeingTag) != 0 {
          // It died freeing this object: the rest of the freeing is done
          // here (the entry is cleared as the block is freed).
          off &= ~Int(Arena.freeingTag)
          if Arena.shared.isAllocated(off) && Arena.shared.at(off).load(fromByteOffset: 8, as: Int32.self) != 0 {
            SharedHandle.finish(off, entry: at)
          }
          Arena.shared.word(at).pointee = 0
          continue
        }
        if off & Int(pendingTag) != 0 {
          off &= ~Int(pendingTag)
          if !taken { off = 0 }  // still the queued item's
        } else if off & Int(publishingTag) != 0 {
          off &= ~Int(publishingTag)
          if published { off = 0 }  // the queued item's now
        }
        Arena.shared.word(at).pointee = 0
        if off != 0 {
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
