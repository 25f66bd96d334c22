import CMPShim
import Glibc
import MPLanguage

/// Base of every handle to an object in the arena (lock, semaphore, shared
/// cell, queue). A handle is an offset, so it means the same object in every
/// process; this wrapper is one process's view of it.
///
/// Lifetime: the arena object counts the processes that hold a wrapper for
/// it (plus messages in flight that carry it, and each process holding it
/// when it is a lock). A forked child inherits its parent's wrappers and is
/// counted in before the fork; a process drops its count when its wrapper
/// is freed or when it exits, and its reaper drops whatever a process that
/// died still held (ProcessRefs). At zero the space is reused.
public class SharedHandle: MPObject, Codec.Transferable {
  public let offset: Int
  /// The number shown in `<lock 3>`, unique across the program.
  public let number: Int
  /// Where this process's count is written down (ProcessRefs), 0 if nowhere.
  var refSlot = 0

  // Object header: refcount (Int64), kind (Int32), number (Int32).
  static let headerSize = 16

  /// This process's wrappers, by offset. Unretained (a wrapper nobody uses
  /// goes, and its deinit removes it): a weak reference would move every
  /// handle's reference counting to Swift's slow path. Unchecked (as every
  /// static a child touches: Runtime.swift).
  @exclusivity(unchecked) nonisolated(unsafe) static var live: [Int: Unmanaged<SharedHandle>] = [:]

  public class var kind: UInt8 { 0 }
  public static var codecKind: UInt8 { 2 }

  /// Payload address (after the header).
  var payload: UnsafeMutableRawPointer { Arena.shared.at(offset + SharedHandle.headerSize) }

  var refcount: UnsafeMutablePointer<Int64> { Arena.shared.at(offset).assumingMemoryBound(to: Int64.self) }

  /// Allocates a new object of `payloadSize` bytes.
  init(newWithPayload payloadSize: Int, kind: UInt8) throws {
    let at = ProcessRefs.reserve()
    do {
      // Written in this process's record as the arena hands the block out
      // (its journal finishes that for a process that dies inside): a death
      // before the header below leaves a block of kind 0, which the reaper
      // frees (ProcessRefs.releaseAll).
      offset = try Arena.shared.allocate(SharedHandle.headerSize + payloadSize,
                                         storeIn: at > 0 ? Arena.shared.word(at) : nil)
    } catch {
      ProcessRefs.recycle(at)
      throw error
    }
    DiePoint.objectMade.reach()
    number = Arena.shared.nextId()
    super.init()
    let base = Arena.shared.at(offset)
    base.storeBytes(of: Int64(1), as: Int64.self)
    base.storeBytes(of: Int32(truncatingIfNeeded: number), toByteOffset: 12, as: Int32.self)
    base.storeBytes(of: Int32(kind), toByteOffset: 8, as: Int32.self)
    refSlot = at
    SharedHandle.live[offset] = Unmanaged.passUnretained(self)
  }

  /// A wrapper for an existing object (decoded from a message): counts this
  /// process in (unless `strong` has just done so).
  init(existing offset: Int) {
    self.offset = offset
    number = Int(Arena.shared.at(offset).load(fromByteOffset: 12, as: Int32.self))
    super.init()
    // Matched by offset: a condition or a pipe makes the wrappers of its
    // lock or queues before its own, and those must not take its count.
    if let c = SharedHandle.counted, c.offset == offset {
      refSlot = c.entry
      SharedHandle.counted = nil
    } else {
      let at = ProcessRefs.reserve()
      if at > 0 { Arena.shared.countIn(offset, entry: at) } else { mp_atomic_add(refcount, 1) }
      refSlot = at
    }
    SharedHandle.live[offset] = Unmanaged.passUnretained(self)
  }

  /// Set while a process decodes a pinned message whose sender may have
  /// let its objects go meanwhile (a pool worker decoding the function of
  /// a call that may just have ended): each handle is then taken as by
  /// `strong`, never counted in on a block that may have been freed.
  nonisolated(unsafe) static var pinnedMayBeGone = false

  /// Where `strong` (or a decoding, `adopt`) wrote down the count that the
  /// next wrapper made for that object stands for.
  nonisolated(unsafe) static var counted: (offset: Int, entry: Int)? = nil

  /// A weak reference names an object without holding a count on it: its
  /// offset and its number, which no later object has. A pool's chunks
  /// name their call's reply queue so: a count carried in a message must
  /// move to the process that takes the message, and a count cannot move
  /// between two records in one store, so a process killed mid-move lost
  /// it (or gave it back twice).
  var weakReference: (offset: Int, number: Int) { (offset, number) }

  /// A counted wrapper for the object a weak reference names, or nil if
  /// that object has gone (its count reached 0). The count is taken under
  /// the arena's lock, so the block cannot be freed or reused meanwhile,
  /// and only while it is above 0 (an object at 0 is being freed). With no
  /// number (a pinned handle, see `pinnedMayBeGone`), any live object of
  /// that kind at that offset is taken.
  static func strong(offset: Int, number: Int?, kind: UInt8) -> SharedHandle? {
    if let h = live[offset]?.takeUnretainedValue() { return number == nil || h.number == number ? h : nil }
    guard let make = makers[kind] else { return nil }
    let at = ProcessRefs.reserve()
    let took = Arena.shared.ifLiveBlock(offset) { () -> Bool in
      let p = Arena.shared.at(offset)
      guard p.load(fromByteOffset: 8, as: Int32.self) == Int32(kind),
        number.map({ p.load(fromByteOffset: 12, as: Int32.self) == Int32(truncatingIfNeeded: $0) }) ?? true
      else { return false }
      if at > 0 { return Arena.shared.countIn(offset, entry: at, ifAbove0: true, locked: true) }
      let rc = p.assumingMemoryBound(to: Int64.self)
      while true {
        let c = mp_atomic_load(rc)
        if c <= 0 { return false }
        if mp_atomic_cas(rc, c, c + 1) != 0 { return true }
      }
    } ?? false
    guard took else {
      ProcessRefs.recycle(at)
      return nil
    }
    counted = (offset, at)
    return make(offset)
  }

  deinit {
    SharedHandle.live[offset] = nil
    if LockHandle.keepsCount(self, slot: refSlot) { return }
    SharedHandle.giveBack(offset, entry: refSlot)
  }

  /// Gives back this process's count on the object at `offset`, written
  /// down at record entry `entry` (0: nowhere): the entry is zeroed and the
  /// count lowered as one step (Arena.countOut), so a death in between
  /// neither keeps the count nor gives it back twice.
  static func giveBack(_ offset: Int, entry: Int) {
    guard entry > 0 else { return release(offset) }
    // At 0 the entry stays, marked: freeing the object is this record's.
    if Arena.shared.countOut(offset, entry: entry) == 0 { finish(offset, entry: entry) }
    ProcessRefs.recycle(entry)
  }

  /// Gives back a count written down nowhere (the main process's: it
  /// cannot die apart from the program; or a message's).
  static func release(_ offset: Int) {
    let rc = Arena.shared.at(offset).assumingMemoryBound(to: Int64.self)
    if mp_atomic_add(rc, -1) == 0 { finish(offset) }
  }

  /// An object's count reached 0: its space is reused. With `entry` (the
  /// record entry marked for freeing it, Arena.freeingTag), a process that
  /// dies anywhere in here leaves the rest to its reaper, which calls this
  /// again: finalizers can be run again from wherever one stopped, and the
  /// block is freed in the same step as the entry is cleared.
  static func finish(_ offset: Int, entry: Int = 0) {
    DiePoint.objectFreeing.reach()
    let kind = UInt8(truncatingIfNeeded: Arena.shared.at(offset).load(fromByteOffset: 8, as: Int32.self))
    finalizers[kind]?(offset + headerSize)
    DiePoint.objectFinalized.reach()
    Arena.shared.free(offset, clearing: entry > 0 ? Arena.shared.word(entry) : nil)
  }

  /// Extra cleanup when an object's space is reused (a queue frees its
  /// items). Each must be able to run again after a death anywhere inside
  /// it (`finish`): every step it takes is one store, or journaled.
  nonisolated(unsafe) static var finalizers: [UInt8: (Int) -> Void] = [:]

  /// Gives back the count that the arena word `w` holds on the object it
  /// names (a condition's lock, a pipe's queues), and zeroes `w`, so that a
  /// finalizer run again does not give it back twice. In a child the count
  /// moves to an entry of its record first (two journaled steps): from
  /// there a last count is freed as any (`giveBack`).
  static func dropHeld(_ w: UnsafeMutablePointer<Int64>) {
    let obj = Int(w.pointee)
    guard obj != 0 else { return }
    let at = ProcessRefs.reserve()
    guard at > 0 else {
      w.pointee = 0
      return release(obj)
    }
    Arena.shared.countIn(obj, entry: at)
    _ = Arena.shared.countOut(obj, entry: Int(bitPattern: w) - Int(bitPattern: Arena.shared.base))
    giveBack(obj, entry: at)
  }

  /// What a child is counted in for, made before the fork.
  struct ChildRecord {
    var offsets: [Int]
    var slots: [Int]
    var first: Int
    /// Its last chunk, found by the parent: a child that read the chain
    /// would fault in a page of the arena for it.
    var tail: Int
  }

  /// Before a fork: the child will hold a copy of every wrapper this
  /// process has, so count it in now, and write the counts down in the
  /// child's own record. (Counting in from the child would race: the
  /// parent may drop its last wrapper before the child runs.)
  static func countChildIn() throws -> ChildRecord {
    let offsets = Array(live.keys)
    for off in offsets { mp_atomic_add(Arena.shared.at(off).assumingMemoryBound(to: Int64.self), 1) }
    do {
      let r = try ProcessRefs.recordForChild(offsets)
      return ChildRecord(offsets: offsets, slots: r.slots, first: r.first, tail: r.tail)
    } catch {
      for off in offsets { release(off) }
      throw error
    }
  }

  /// The fork failed: take the counts back.
  static func undo(_ r: ChildRecord) {
    ProcessRefs.releaseAll(r.first)
  }

  /// In the child right after fork: its wrappers' counts are the record's.
  static func adopt(_ r: ChildRecord) {
    for (off, at) in zip(r.offsets, r.slots) { live[off]?.takeUnretainedValue().refSlot = at }
    // Entries of the parent's record: the parent's counts, not the child's.
    if !owned.isEmpty { owned = [:] }
    ProcessRefs.adopt(first: r.first, tail: r.tail)
  }

  /// Before a child's `_exit`: its wrappers are never freed, so drop their
  /// counts. Locks it still holds stay counted until it is reaped: the
  /// kernel writes to a held lock's mutex after the process is gone.
  static func countProcessOut() {
    // A child that has none skips this code (and the dictionary's
    // metadata): each is a page it would fault in.
    guard !live.isEmpty else { return }
    for (off, h) in live where !LockHandle.isHeldHere(h.takeUnretainedValue()) {
      giveBack(off, entry: h.takeUnretainedValue().refSlot)
    }
    live = [:]
  }

  public func encodePayload(_ e: inout Codec.Encoder) throws {
    e.byte(Self.kind)
    e.varint(offset)
    // The message holds a count until it is decoded.
    if !e.pinned {
      var at = 0
      if e.recording { at = ProcessRefs.reserve() }
      if at > 0 { Arena.shared.countIn(offset, entry: at) } else { mp_atomic_add(refcount, 1) }
      e.counted.append(offset)
      e.countedEntries.append(at)
    }
  }

  /// Gives back the counts of a message that will not be sent: each
  /// written down at its entry, or nowhere (0).
  static func dropCounts(_ offsets: [Int], entries: [Int]) {
    for (off, at) in zip(offsets, entries) { giveBack(off, entry: at) }
  }

  // MARK: hand-over

  /// Counts carried by queue items this process has taken and not decoded
  /// yet, by object: record entries (ProcessRefs.takeOver wrote them as the
  /// item left its queue). Decoding a handle uses one of them if there is
  /// one (the new wrapper adopts the entry, or it is given back), so at no
  /// instruction is such a count nobody's: it is the queue's, then this
  /// record's, then the wrapper's, and a process killed in between is
  /// cleaned up by its reaper (docs/reference.md, "Processes that die").
  @exclusivity(unchecked) nonisolated(unsafe) static var owned: [Int: [Int]] = [:]

  /// The record entry holding a taken message's count on `off`, if any.
  @inline(__always) static func takeOwned(_ off: Int) -> Int? {
    guard !owned.isEmpty, var list = owned[off] else { return nil }
    let at = list.removeLast()
    owned[off] = list.isEmpty ? nil : list
    return at
  }

  /// A message's count on `off` is no longer needed (its handle was
  /// decoded into an existing wrapper, or the decoding failed).
  static func dropMessageCount(_ off: Int) {
    guard off >= Arena.heapStart, off < Arena.shared.size else { return }
    if let at = takeOwned(off) { giveBack(off, entry: at) } else { release(off) }
  }


  /// Decoders for each kind of shared object.
  nonisolated(unsafe) static var makers: [UInt8: (Int) -> SharedHandle] = [:]

  static func registerCodec() {
    Codec.register(kind: codecKind) { d in
      let kind = try d.byte()
      let off = try d.varint()
      guard off >= Arena.heapStart, off < Arena.shared.size, let make = makers[kind] else {
        throw MPError(.value, "corrupt handle in a message")
      }
      if d.countedHandles {
        d.usedCount(off)
        if let h = live[off]?.takeUnretainedValue() {
          dropMessageCount(off)
          return .object(h)
        }
        if let at = takeOwned(off) {
          // The new wrapper stands for the message's count: no store moves it.
          counted = (off, at)
          return .object(make(off))
        }
        // Counted in before the message's count goes: never at 0 between.
        let h = make(off)
        release(off)
        return .object(h)
      }
      if let h = live[off]?.takeUnretainedValue() { return .object(h) }
      if pinnedMayBeGone {
        guard let h = strong(offset: off, number: nil, kind: kind) else {
          throw MPError(.closed, "a shared object this message names has gone")
        }
        return .object(h)
      }
      return .object(make(off))
    }
  }

  public override func exit(_ interp: Interpreter) throws {}
}
