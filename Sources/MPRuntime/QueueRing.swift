import CMPShim
import Glibc
import MPLanguage

/// Where a queue keeps its items: a chain of segments in the arena, each a
/// run of `segSlots` slots of 64 bytes. Item number n (counting every item
/// ever put) lives in slot n of the chain; a segment is appended when the
/// last one is full and freed once every item in it was got. An item whose
/// encoding fits in a slot (numbers, short strings: most items) is written
/// into it; a larger one gets a block of its own, named in its slot.
///
/// Putters and getters have a lock each, so one producer and one consumer
/// never wait for each other: each side's lock and words stay in its own
/// CPU's cache, and what crosses between them is two counters (items put,
/// items got; count = put - got) and the slots themselves.
///
/// A process may die at any instruction. Each side's state changes one
/// store at a time, and the store that commits a step comes last:
///   - a put writes its slot, then raises `putCount`: until then the item
///     does not exist;
///   - a get reads its slot, then raises `getCount`: until then the item is
///     still there for the next getter;
///   - a new segment is linked from the last one, then becomes the tail;
///     an emptied one stops being the head, then is freed;
///   - a block being allocated or freed (an item's block, a segment) is
///     named in a pending word first, with the item number it belongs to.
/// The next process to take a side's lock after a death (SharedMutex says
/// so) finishes or undoes that side's step from those words.
extension QueueHandle {
  // Payload layout. Each side's words share a cache line with its lock;
  // the two counters have a line each.
  static let putMutexOff = 0, putDirtyOff = 48, tailSegOff = 56
  static let segPendingOff = 64, putPendingOff = 72, putPendingPosOff = 80
  static let getMutexOff = 128, getDirtyOff = 176, headSegOff = 184
  static let oldSegPendingOff = 192, getPendingOff = 200, getPendingPosOff = 208
  static let putCountOff = 256
  static let getCountOff = 320
  static let maxOff = 384, closedOff = 392, dataSeqOff = 396, spaceSeqOff = 400, getWaitOff = 404, putWaitOff = 408
  static let formatOff = 412  // what the items are: values, or a pool's own messages (QueueItems.swift)
  // Each side's hand-over note: where the record note of the lock's holder
  // is while it moves an item's counts (ProcessRefs.writeNote).
  static let putNoteOff = 88, getNoteOff = 216
  static let payloadSize = 448

  // A segment: next segment (Int64), number of its first item (Int64), slots.
  static let segSlots = 32, slotSize = 64, segHeader = 16
  static let segBytes = segHeader + segSlots * slotSize
  // A slot: Int64 n >= 0 and n bytes of item, or -(offset of a block
  // holding [length (Int64)][bytes]).
  static let inlineMax = slotSize - 8

  /// For tests (MP_DEBUG=1, `queue_die_at(k)`): this process `_exit`s at
  /// the k-th step from now, a step being the gap between two stores that
  /// a dying process can leave behind (see above).
  nonisolated(unsafe) static var dieAtStep = -1
  @inline(__always) static func step() { if dieAtStep >= 0 { countStep() } }
  static func countStep() {
    if dieAtStep == 0 { _exit(9) }
    dieAtStep -= 1
  }

  /// The offset of the queue object whose payload is at `p`.
  static func object(_ p: UnsafeMutableRawPointer) -> Int {
    Int(bitPattern: p) - Int(bitPattern: Arena.shared.base) - SharedHandle.headerSize
  }

  /// The hand-over note word of one side of the queue object at `queue`.
  static func noteWord(_ queue: Int, publishing: Bool) -> UnsafeMutablePointer<Int64> {
    word(Arena.shared.at(queue + SharedHandle.headerSize), publishing ? putNoteOff : getNoteOff)
  }

  /// Runs `body` with the put count (publishing) or the get count, under
  /// that side's lock, repairing it first if its holder died (a reaper
  /// reading a dead process's note); nil if the lock cannot be had.
  static func underLock<T>(_ queue: Int, publishing: Bool, _ body: (Int64) -> T) -> T? {
    let p = Arena.shared.at(queue + SharedHandle.headerSize)
    let m = publishing ? SharedMutex(mutex: p + putMutexOff, dirty: p + putDirtyOff)
      : SharedMutex(mutex: p + getMutexOff, dirty: p + getDirtyOff)
    guard let died = try? m.lock("a queue", interruptible: false) else { return nil }
    defer { m.unlock() }
    if died {
      if publishing { repairPut(p) } else { repairGet(p) }
      // Waiters may sleep on a state that changed: let them look again.
      for off in [dataSeqOff, spaceSeqOff] {
        let w = (p + off).assumingMemoryBound(to: Int32.self)
        mp_atomic_add32(w, 1)
        _ = mp_futex_wake(w, Int32.max)
      }
    }
    return body(word(p, publishing ? putCountOff : getCountOff).pointee)
  }

  /// Items in the queue whose payload is at `p` (for ps() and deadlock reports).
  static func itemCount(_ p: UnsafeMutableRawPointer) -> Int {
    let got = mp_load_acquire((p + getCountOff).assumingMemoryBound(to: Int64.self))
    let put = mp_load_acquire((p + putCountOff).assumingMemoryBound(to: Int64.self))
    return max(0, Int(put - got))
  }

  static func word(_ p: UnsafeMutableRawPointer, _ off: Int) -> UnsafeMutablePointer<Int64> {
    (p + off).assumingMemoryBound(to: Int64.self)
  }

  /// A new queue's first segment, owned by the queue from the instant it exists.
  static func makeFirstSegment(_ p: UnsafeMutableRawPointer) throws {
    let seg = try Arena.shared.allocate(segBytes, zeroed: false, storeIn: word(p, segPendingOff))
    let s = Arena.shared.at(seg)
    s.storeBytes(of: Int64(0), as: Int64.self)
    s.storeBytes(of: Int64(0), toByteOffset: 8, as: Int64.self)
    word(p, headSegOff).pointee = Int64(seg)
    mp_store_release(word(p, tailSegOff), Int64(seg))
    word(p, segPendingOff).pointee = 0
  }

  // MARK: putting (under the put lock)

  /// The slot of item number `n`, appending a segment when `n` starts one.
  static func slotForPut(_ p: UnsafeMutableRawPointer, _ n: Int) throws -> UnsafeMutableRawPointer {
    let tail = word(p, tailSegOff)
    var seg = Int(tail.pointee)
    var first = Int(Arena.shared.at(seg).load(fromByteOffset: 8, as: Int64.self))
    if n >= first + segSlots {
      let pending = word(p, segPendingOff)
      let next = try Arena.shared.allocate(segBytes, zeroed: false, storeIn: pending)
      step()
      let s = Arena.shared.at(next)
      s.storeBytes(of: Int64(0), as: Int64.self)
      s.storeBytes(of: Int64(n), toByteOffset: 8, as: Int64.self)
      step()
      // The link commits the new segment; the repair finishes from it.
      mp_store_release(Arena.shared.word(seg), Int64(next))
      step()
      mp_store_release(tail, Int64(next))
      step()
      mp_store_release(pending, 0)
      seg = next
      first = n
    }
    return Arena.shared.at(seg + segHeader + (n - first) * slotSize)
  }

  /// Writes item number `n` (`count` bytes, written by `write`) and
  /// publishes it.
  static func putItem(_ p: UnsafeMutableRawPointer, _ n: Int, count: Int,
                      _ write: (UnsafeMutableRawPointer) -> Void) throws {
    step()
    let slot = try slotForPut(p, n)
    if count <= inlineMax {
      write(slot + 8)
      step()
      slot.storeBytes(of: Int64(count), as: Int64.self)
      step()
      mp_store_release(word(p, putCountOff), Int64(n + 1))
      step()
      return
    }
    let pending = word(p, putPendingOff)
    mp_store_first(word(p, putPendingPosOff), Int64(n))
    step()
    let block = try Arena.shared.allocate(8 + count, zeroed: false, storeIn: pending)
    step()
    let b = Arena.shared.at(block)
    b.storeBytes(of: Int64(count), as: Int64.self)
    write(b + 8)
    step()
    slot.storeBytes(of: -Int64(block), as: Int64.self)
    step()
    mp_store_release(word(p, putCountOff), Int64(n + 1))
    step()
    mp_store_release(pending, 0)
    step()
  }

  /// After a putter died holding the put lock.
  static func repairPut(_ p: UnsafeMutableRawPointer) {
    // The arena first: its own repair may finish a step that names a block here.
    Arena.shared.settle()
    // Before anything moves the put count past the dead putter's item.
    ProcessRefs.settleNote(word(p, putNoteOff), queue: object(p), publishing: true, counter: word(p, putCountOff).pointee)
    let tail = word(p, tailSegOff)
    if tail.pointee == 0 { tail.pointee = word(p, headSegOff).pointee }
    if tail.pointee != 0 {
      let next = Arena.shared.word(Int(tail.pointee)).pointee
      if next != 0 { mp_store_release(tail, next) }
    }
    let seg = word(p, segPendingOff)
    let s = Int(seg.pointee)
    if s != 0 && Int64(s) != tail.pointee && Arena.shared.isAllocated(s) { Arena.shared.free(s, clearing: seg) }
    seg.pointee = 0
    let pending = word(p, putPendingOff)
    let b = Int(pending.pointee)
    if b != 0 {
      let published = word(p, putCountOff).pointee > word(p, putPendingPosOff).pointee
      if !published && Arena.shared.isAllocated(b) { Arena.shared.free(b, clearing: pending) }
    }
    pending.pointee = 0
  }

  // MARK: getting (under the get lock)

  /// The slot of item number `n` (which has been put), moving the head to
  /// the next segment, and freeing the old one, when `n` starts it.
  static func slotForGet(_ p: UnsafeMutableRawPointer, _ n: Int) -> UnsafeMutableRawPointer {
    let head = word(p, headSegOff)
    var seg = Int(head.pointee)
    var first = Int(Arena.shared.at(seg).load(fromByteOffset: 8, as: Int64.self))
    if n >= first + segSlots {
      // Linked before item n was published.
      let next = Int(mp_load_acquire(Arena.shared.word(seg)))
      dropHeadSegment(p, seg, next: next)
      seg = next
      first = n
    }
    return Arena.shared.at(seg + segHeader + (n - first) * slotSize)
  }

  /// The bytes of the item in `slot`, and its block (0 when inline).
  /// The head segment `seg` leaves the queue for `next` and is freed, one
  /// step each way: named in the get side's pending word first, so a
  /// process that dies between the steps leaves it to its reaper.
  static func dropHeadSegment(_ p: UnsafeMutableRawPointer, _ seg: Int, next: Int) {
    let old = word(p, oldSegPendingOff)
    mp_store_first(old, Int64(seg))
    step()
    mp_store_release(word(p, headSegOff), Int64(next))
    step()
    Arena.shared.free(seg, clearing: old)
    step()
  }

  static func itemBytes(_ slot: UnsafeMutableRawPointer) -> (UnsafeRawBufferPointer, Int) {
    let w = Int(slot.load(as: Int64.self))
    if w >= 0 { return (UnsafeRawBufferPointer(start: slot + 8, count: min(w, inlineMax)), 0) }
    let b = Arena.shared.at(-w)
    return (UnsafeRawBufferPointer(start: b + 8, count: Int(b.load(as: Int64.self))), -w)
  }

  /// Item number `n` has been read: it leaves the queue (and its block the arena).
  static func finishGet(_ p: UnsafeMutableRawPointer, _ n: Int, block: Int, taken: (() -> Void)?) {
    step()
    if block == 0 {
      mp_store_release(word(p, getCountOff), Int64(n + 1))
      step()
      taken?()
      return
    }
    let pending = word(p, getPendingOff)
    mp_store_first(word(p, getPendingPosOff), Int64(n))
    step()
    mp_store_first(pending, Int64(block))
    step()
    mp_store_release(word(p, getCountOff), Int64(n + 1))
    step()
    taken?()
    Arena.shared.free(block, clearing: pending)
    step()
  }

  /// After a getter died holding the get lock.
  static func repairGet(_ p: UnsafeMutableRawPointer) {
    Arena.shared.settle()
    // Before anything moves the get count past the dead getter's item.
    ProcessRefs.settleNote(word(p, getNoteOff), queue: object(p), publishing: false, counter: word(p, getCountOff).pointee)
    let old = word(p, oldSegPendingOff)
    let o = Int(old.pointee)
    if o != 0 && Int64(o) != word(p, headSegOff).pointee && Arena.shared.isAllocated(o) {
      Arena.shared.free(o, clearing: old)
    }
    old.pointee = 0
    let pending = word(p, getPendingOff)
    let b = Int(pending.pointee)
    if b != 0 {
      let consumed = word(p, getCountOff).pointee > word(p, getPendingPosOff).pointee
      if consumed && Arena.shared.isAllocated(b) { Arena.shared.free(b, clearing: pending) }
    }
    pending.pointee = 0
  }

  // MARK: the end

  /// Frees every item left and every segment, once no process holds the
  /// queue (one may have died inside a put or a get: that is repaired first).
  /// The items are taken as gets take them, one store committing each, so
  /// that a process that dies in here leaves a queue whole for its reaper
  /// to finish (SharedHandle.finish): an item's counts go to this process's
  /// record as the item leaves (ProcessRefs.beginTakeOver), and are given
  /// back once the queue's locks are let go.
  static func freeAll(_ p: UnsafeMutableRawPointer) {
    // An allocation cut short by a death names its block in a pending word
    // once the arena is repaired: before those words are read.
    Arena.shared.settle()
    let object = QueueHandle.object(p)
    let format = (p + formatOff).load(as: Int32.self)
    var carried: [[UInt8]] = []
    defer { dropCounts(carried, format: format) }
    let putLock = SharedMutex(mutex: p + putMutexOff, dirty: p + putDirtyOff)
    let getLock = SharedMutex(mutex: p + getMutexOff, dirty: p + getDirtyOff)
    guard let putDied = try? putLock.lock("a queue", interruptible: false) else { return }
    defer { putLock.unlock() }
    if putDied { repairPut(p) }
    guard let getDied = try? getLock.lock("a queue", interruptible: false) else { return }
    defer { getLock.unlock() }
    if getDied { repairGet(p) }
    let head = word(p, headSegOff)
    let end = Int(word(p, putCountOff).pointee)
    while head.pointee != 0 {
      let n = Int(word(p, getCountOff).pointee)
      guard n < end else { break }
      let slot = slotForGet(p, n)
      var (body, block) = itemBytes(slot)
      if block != 0 && !Arena.shared.isAllocated(block) {
        (body, block) = (UnsafeRawBufferPointer(start: nil, count: 0), 0)  // cannot happen; never read a freed block
      }
      var takeOver: ProcessRefs.TakeOver? = nil
      if keep(body, format: format) {
        carried.append([UInt8](body))
        if ProcessRefs.first != 0, let list = carriedCounts(body, format: format) {
          takeOver = ProcessRefs.beginTakeOver(queue: object, item: n, offsets: list)
        }
      }
      finishGet(p, n, block: block, taken: nil)
      if let takeOver { ProcessRefs.finishTakeOver(takeOver) }
    }
    // Nothing is put any more. The segments go one at a time, each named
    // in the get side's pending word first (as when a get leaves one).
    word(p, tailSegOff).pointee = 0
    while head.pointee != 0 {
      let seg = Int(head.pointee)
      dropHeadSegment(p, seg, next: Int(Arena.shared.word(seg).pointee))
    }
  }
}
