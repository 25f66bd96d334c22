import CMPShim
import Glibc
import MPLanguage

/// One shared memory region, mapped before the first fork, so every process
/// of the program sees the same bytes at the same address. Locks,
/// semaphores, shared cells, queue items and the process table live in it,
/// and a handle is just an offset into it: it means the same thing in every
/// process, whenever that process was forked.
///
/// The heap is a chain of blocks, each with a 16-byte header (size with a
/// "used" bit, and the size of the block before it). Freed blocks merge
/// with free neighbours and are split on reuse, so space given back by any
/// item serves items of any size. Free blocks sit on lists by size class.
///
/// Any process may die inside `allocate` or `free`. Every step changes the
/// chain of headers with one store, so walking the chain always works;
/// the lists and counters are rebuilt from that walk by the next process
/// that takes the arena's lock (see SharedMutex).
public final class Arena {
  /// The arena of this program (created by `Runtime.install`).
  // Set once; unchecked, because every handle operation reads it and a
  // dynamic exclusivity check cost more than an uncontended lock's atomic.
  @exclusivity(unchecked) nonisolated(unsafe) public static var shared: Arena! = nil

  public let base: UnsafeMutableRawPointer
  public let size: Int

  // Header layout (offsets in bytes).
  static let magicOffset = 0
  static let bumpOffset = 8            // end of the carved part of the heap
  static let liveOffset = 16           // live child processes of the whole program
  static let nextIdOffset = 24         // counter for handle numbers (`<lock 3>`)
  static let usedBytesOffset = 32      // bytes in used blocks, headers included
  static let usedBlocksOffset = 40
  static let lastSizeOffset = 48       // size of the block that ends at bump
  static let journalBlockOffset = 56   // a free in progress: the block...
  static let journalClearOffset = 64   // ...and the word to zero once it is free
  static let dirtyOffset = 72
  static let mutexOffset = 80          // the allocator's robust mutex (48 bytes)
  static let classHeadsOffset = 128    // `classCount` list heads
  static let classCount = 48
  static let journalAllocOffset = 512       // an allocation in progress: the block...
  static let journalAllocStoreOffset = 520  // ...and the word that is to name it
  static let journalCountObjectOffset = 528  // a count change in progress: the object...
  static let journalCountEntryOffset = 536   // ...the record entry (0: none)...
  static let journalCountDirectionOffset = 544  // ...and 1 (counted in) or -1 (out)
  /// A robust mutex serialising writes longer than PIPE_BUF (whole lines).
  static let outputMutexOffset = 1024
  static let outputDirtyOffset = 1072
  static let headerSize = 4096
  static let procTableOffset = headerSize
  static let procEntrySize = 128
  public static let procCapacity = 2048
  static let heapStart = procTableOffset + procEntrySize * procCapacity

  static let blockHeader = 16
  static let minBlock = 32
  /// A split leaves a remainder only if it is at least this big.
  static let minSplit = 64

  init(size: Int) throws {
    let p = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
    guard let p, p != MAP_FAILED else {
      throw MPError(.process, "cannot map the shared arena (\(size >> 20) MiB): \(String(cString: strerror(errno)))")
    }
    base = p
    self.size = size
    word(Arena.magicOffset).pointee = 0x6D70_6172_656E_61  // "mparena"
    word(Arena.bumpOffset).pointee = Int64(Arena.heapStart)
    try mutex.initialise("the shared arena")
    try outputMutex.initialise("the output lock")
  }

  @inline(__always)
  func word(_ offset: Int) -> UnsafeMutablePointer<Int64> {
    (base + offset).assumingMemoryBound(to: Int64.self)
  }

  /// A pointer to `offset` bytes into the arena.
  @inline(__always)
  public func at(_ offset: Int) -> UnsafeMutableRawPointer { base + offset }

  /// The next handle number, unique across all processes of the program.
  public func nextId() -> Int { Int(mp_atomic_add(word(Arena.nextIdOffset), 1)) }

  var mutex: SharedMutex { SharedMutex(mutex: base + Arena.mutexOffset, dirty: base + Arena.dirtyOffset) }
  var outputMutex: SharedMutex { SharedMutex(mutex: base + Arena.outputMutexOffset, dirty: base + Arena.outputDirtyOffset) }

  // MARK: blocks

  @inline(__always) private func sizeOf(_ b: Int) -> Int { Int(word(b).pointee) & ~15 }
  @inline(__always) private func isUsed(_ b: Int) -> Bool { word(b).pointee & 1 != 0 }
  @inline(__always) private func prevSize(_ b: Int) -> Int { Int(word(b + 8).pointee) }
  private var bump: Int { Int(word(Arena.bumpOffset).pointee) }

  static func sizeClass(_ n: Int) -> Int { min(classCount - 1, 63 - n.leadingZeroBitCount) }
  private func head(_ cls: Int) -> UnsafeMutablePointer<Int64> { word(Arena.classHeadsOffset + 8 * cls) }
  // A free block's list links live in its payload.
  private func nextFree(_ b: Int) -> UnsafeMutablePointer<Int64> { word(b + 16) }
  private func prevFree(_ b: Int) -> UnsafeMutablePointer<Int64> { word(b + 24) }

  private func pushFree(_ b: Int) {
    let h = head(Arena.sizeClass(sizeOf(b)))
    let first = Int(h.pointee)
    nextFree(b).pointee = Int64(first)
    prevFree(b).pointee = 0
    if first != 0 { prevFree(first).pointee = Int64(b) }
    h.pointee = Int64(b)
  }

  private func unlinkFree(_ b: Int) {
    let n = Int(nextFree(b).pointee), p = Int(prevFree(b).pointee)
    if p != 0 { nextFree(p).pointee = Int64(n) } else { head(Arena.sizeClass(sizeOf(b))).pointee = Int64(n) }
    if n != 0 { prevFree(n).pointee = Int64(p) }
  }

  /// Tells the block after `b` (if any) that `b` is now `size` bytes long.
  private func setPrevSizeAfter(_ b: Int, _ size: Int) {
    let next = b + size
    if next < bump { word(next + 8).pointee = Int64(size) } else { word(Arena.lastSizeOffset).pointee = Int64(size) }
  }

  // MARK: allocation

  private func lock() throws {
    if try mutex.lock("the shared arena", interruptible: false) { repair() }
  }

  private func unlock() {
    mutex.unlock()
  }

  /// Makes sure the allocator is whole (repairing it if a process died
  /// inside it), before a structure repairs itself on top of it.
  func settle() {
    if (try? lock()) != nil { unlock() }
  }

  /// Allocates `n` bytes, 16-byte aligned, zeroed unless `zeroed` is false;
  /// returns the offset. Any process may call it. With `storeIn`, the
  /// offset is also written there before the arena's lock is let go, so a
  /// structure can own the block from the instant it exists.
  public func allocate(_ n: Int, zeroed: Bool = true, storeIn: UnsafeMutablePointer<Int64>? = nil) throws -> Int {
    guard n >= 0, n < size - Arena.heapStart else {
      throw MPError(.value, "cannot allocate \(n) bytes in the shared arena (it holds \(size >> 20) MiB in all)")
    }
    let need = max(Arena.minBlock, (n + Arena.blockHeader + 15) & ~15)
    try lock()
    defer { unlock() }
    var b = findFree(need)
    let journalStore = storeIn.map { Int64(Int(bitPattern: $0) - Int(bitPattern: base)) } ?? 0
    if journalStore != 0 {
      // Written down first: if this process dies before `storeIn` names
      // the block, the repair names it there, so its owner can free it.
      word(Arena.journalAllocOffset).pointee = Int64(b != 0 ? b : bump)
      word(Arena.journalAllocStoreOffset).pointee = journalStore
    }
    if b != 0 {
      unlinkFree(b)
      let have = sizeOf(b)
      if have - need >= Arena.minSplit {
        // The remainder's header is written first, inside the block, where
        // a walk cannot see it until the block's own size shrinks.
        let r = b + need
        word(r).pointee = Int64(have - need)
        word(r + 8).pointee = Int64(need)
        word(b).pointee = Int64(need | 1)
        setPrevSizeAfter(r, have - need)
        pushFree(r)
      } else {
        word(b).pointee = Int64(have | 1)
      }
    } else {
      b = bump
      guard b + need <= size else {
        word(Arena.journalAllocStoreOffset).pointee = 0  // nothing handed out
        throw fullError(need)
      }
      word(b).pointee = Int64(need | 1)
      word(b + 8).pointee = word(Arena.lastSizeOffset).pointee
      word(Arena.lastSizeOffset).pointee = Int64(need)
      word(Arena.bumpOffset).pointee = Int64(b + need)
    }
    let got = sizeOf(b)
    mp_atomic_add(word(Arena.usedBytesOffset), Int64(got))
    mp_atomic_add(word(Arena.usedBlocksOffset), 1)
    if zeroed { memset(base + b + Arena.blockHeader, 0, got - Arena.blockHeader) }
    storeIn?.pointee = Int64(b + Arena.blockHeader)
    word(Arena.journalAllocStoreOffset).pointee = 0
    return b + Arena.blockHeader
  }

  /// A free block of at least `need` bytes, or 0. First fit in the
  /// request's own class (bounded), then the first block of any larger class.
  private func findFree(_ need: Int) -> Int {
    let cls = Arena.sizeClass(need)
    var b = Int(head(cls).pointee)
    var looked = 0
    while b != 0 && looked < 32 {
      if sizeOf(b) >= need { return b }
      b = Int(nextFree(b).pointee)
      looked += 1
    }
    for c in (cls + 1)..<Arena.classCount {
      let h = Int(head(c).pointee)
      if h != 0 { return h }
    }
    return 0
  }

  private func fullError(_ need: Int) -> MPError {
    let used = Int(word(Arena.usedBytesOffset).pointee)
    let blocks = Int(word(Arena.usedBlocksOffset).pointee)
    var largest = 0
    for c in 0..<Arena.classCount {
      var b = Int(head(c).pointee)
      while b != 0 {
        largest = max(largest, sizeOf(b))
        b = Int(nextFree(b).pointee)
      }
    }
    largest = max(largest, size - bump)
    return MPError(.value, "the shared arena is full: \(mib(need)) needed, but \(mib(used)) of its \(mib(size - Arena.heapStart)) are held by \(blocks) live objects and queued items and the largest free piece is \(mib(largest)) (get or drop some items, or let objects go)")
  }

  private func mib(_ n: Int) -> String {
    n >= 1 << 20 ? "\(formatFloat((Double(n) / Double(1 << 20) * 10).rounded() / 10)) MiB" : "\(n) bytes"
  }

  /// Returns a block to the arena. With `clearing`, that word is set to 0
  /// in the same step (a structure's "this block is mine" note), so no
  /// process can see the block both free and still claimed.
  public func free(_ offset: Int, clearing: UnsafeMutablePointer<Int64>? = nil) {
    var b = offset - Arena.blockHeader
    guard b >= Arena.heapStart, b < size else { return }
    guard (try? lock()) != nil else { return }
    defer { unlock() }
    guard isUsed(b) else {
      clearing?.pointee = 0
      return
    }
    word(Arena.journalClearOffset).pointee = clearing.map { Int64(Int(bitPattern: $0) - Int(bitPattern: base)) } ?? 0
    word(Arena.journalBlockOffset).pointee = Int64(b)
    var s = sizeOf(b)
    mp_atomic_add(word(Arena.usedBytesOffset), -Int64(s))
    mp_atomic_add(word(Arena.usedBlocksOffset), -1)
    word(b).pointee = Int64(s)
    let next = b + s
    if next < bump && !isUsed(next) {
      unlinkFree(next)
      s += sizeOf(next)
      word(b).pointee = Int64(s)
      setPrevSizeAfter(b, s)
    }
    if b > Arena.heapStart {
      let p = b - prevSize(b)
      if p >= Arena.heapStart && !isUsed(p) {
        unlinkFree(p)
        s += sizeOf(p)
        word(p).pointee = Int64(s)
        setPrevSizeAfter(p, s)
        b = p
      }
    }
    pushFree(b)
    clearing?.pointee = 0
    word(Arena.journalBlockOffset).pointee = 0
  }

  // MARK: reference counts

  /// Set in a count while a change of it and of a record entry is in
  /// progress (only one at a time: under the arena's lock). Counts stay far
  /// below it.
  static let countTag: Int64 = 1 << 40

  /// Set in a record entry whose count was the object's last: the entry
  /// now stands for freeing the object (SharedHandle.finish), which its
  /// process finishes, or its reaper if it dies first. Set in the same
  /// step as the count reaches 0, and cleared in the same step as the
  /// object's block is freed (`free(clearing:)`): at no instruction is an
  /// object at 0 nobody's to free, or freed and still someone's.
  static let freeingTag: Int64 = 1 << 61

  /// Takes `countTag` off the count at `rc`, writing the entry `entry`
  /// for what the count then is: 0 in it if some count is left, the
  /// object marked `freeingTag` if it was the last. A compare-and-swap, as
  /// other processes may give back raw counts meanwhile; a death inside
  /// leaves the tag, and the repair does this again.
  private func untag(_ rc: UnsafeMutablePointer<Int64>, obj: Int, entry: Int) -> Int64 {
    while true {
      let c = mp_atomic_load(rc)
      let left = c - Arena.countTag
      word(entry).pointee = left == 0 ? Int64(obj) | Arena.freeingTag : 0
      if mp_atomic_cas(rc, c, left) != 0 { return left }
    }
  }

  /// Adds 1 to the count of the object at `obj` (its first word) and
  /// writes `obj` at the record entry `entry`, as one step for a process
  /// that may die between the two: both happen under the arena's lock,
  /// the count carries `countTag` until the entry is written, and the
  /// repair finishes whatever a dead process started (the tag says the
  /// count changed; an entry alone cannot say so). With `ifAbove0`, the
  /// count only goes up from above 0 (an object at 0 is being freed);
  /// returns whether it went up. The caller holds the lock (`locked`) or not.
  @discardableResult
  func countIn(_ obj: Int, entry: Int, ifAbove0: Bool = false, locked: Bool = false) -> Bool {
    if !locked { guard (try? lock()) != nil else { return false } }
    defer { if !locked { unlock() } }
    let rc = word(obj)
    word(Arena.journalCountObjectOffset).pointee = Int64(obj)
    word(Arena.journalCountDirectionOffset).pointee = 1
    word(Arena.journalCountEntryOffset).pointee = Int64(entry)
    if ifAbove0 {
      while true {
        let c = mp_atomic_load(rc)
        if c <= 0 {
          word(Arena.journalCountEntryOffset).pointee = 0
          return false
        }
        if mp_atomic_cas(rc, c, c + 1 + Arena.countTag) != 0 { break }
      }
    } else {
      mp_atomic_add(rc, 1 + Arena.countTag)
    }
    DiePoint.handleCounted.reach()
    word(entry).pointee = Int64(obj)
    mp_atomic_add(rc, -Arena.countTag)
    word(Arena.journalCountEntryOffset).pointee = 0
    return true
  }

  /// Zeroes the record entry `entry` and takes 1 from the count of the
  /// object at `obj`, as one step (see `countIn`). Returns the count left:
  /// at 0 the entry is marked `freeingTag` instead, and the caller frees
  /// the object (SharedHandle.finish).
  func countOut(_ obj: Int, entry: Int) -> Int64 {
    let rc = word(obj)
    guard (try? lock()) != nil else { return 1 }  // cannot happen; keep the object rather than free it twice
    defer { unlock() }
    word(Arena.journalCountObjectOffset).pointee = Int64(obj)
    word(Arena.journalCountDirectionOffset).pointee = -1
    word(Arena.journalCountEntryOffset).pointee = Int64(entry)
    mp_atomic_add(rc, -1 + Arena.countTag)
    DiePoint.handleUncounted.reach()
    let left = untag(rc, obj: obj, entry: entry)
    word(Arena.journalCountEntryOffset).pointee = 0
    return left
  }

  /// A count change cut short by a death: if the count changed (it still
  /// carries the tag), the entry is made to agree and the tag removed. A
  /// last count given back leaves its entry marked for freeing: the dead
  /// process's reaper frees the object (ProcessRefs.releaseAll).
  private func repairCount() {
    let entry = Int(word(Arena.journalCountEntryOffset).pointee)
    guard entry != 0 else { return }
    let obj = Int(word(Arena.journalCountObjectOffset).pointee)
    let rc = word(obj)
    if mp_atomic_load(rc) & Arena.countTag != 0 {
      if word(Arena.journalCountDirectionOffset).pointee > 0 {
        word(entry).pointee = Int64(obj)
        mp_atomic_add(rc, -Arena.countTag)
      } else {
        _ = untag(rc, obj: obj, entry: entry)
      }
    }
    word(Arena.journalCountEntryOffset).pointee = 0
  }

  /// Rebuilds the free lists, counters and back links from the chain of
  /// headers, after a process died holding the arena's lock; finishes the
  /// free it was doing.
  private func repair() {
    repairCount()
    for c in 0..<Arena.classCount { head(c).pointee = 0 }
    var used = 0, blocks = 0
    var b = Arena.heapStart, prev = 0, prevFreeBlock = -1
    let end = bump
    while b < end {
      var s = sizeOf(b)
      if s < Arena.minBlock || b + s > end { break }  // cannot happen with one-store steps; never walk off
      word(b + 8).pointee = Int64(prev)
      if isUsed(b) {
        used += s
        blocks += 1
        prevFreeBlock = -1
      } else if prevFreeBlock >= 0 {
        // Two free neighbours: merge them.
        s += sizeOf(prevFreeBlock)
        unlinkFree(prevFreeBlock)
        word(prevFreeBlock).pointee = Int64(s)
        pushFree(prevFreeBlock)
        b = prevFreeBlock
      } else {
        pushFree(b)
        prevFreeBlock = b
      }
      prev = s
      b += s
    }
    word(Arena.lastSizeOffset).pointee = Int64(prev)
    word(Arena.usedBytesOffset).pointee = Int64(used)
    word(Arena.usedBlocksOffset).pointee = Int64(blocks)
    let jb = Int(word(Arena.journalBlockOffset).pointee)
    let jc = Int(word(Arena.journalClearOffset).pointee)
    if jb != 0 && jc != 0 && !blockContainingIsUsed(jb) { word(jc).pointee = 0 }
    word(Arena.journalBlockOffset).pointee = 0
    // An allocation cut short after its block was marked used: name the
    // block where its owner looks, as the allocation would have.
    let ab = Int(word(Arena.journalAllocOffset).pointee)
    let astore = Int(word(Arena.journalAllocStoreOffset).pointee)
    if astore != 0 && ab >= Arena.heapStart && ab < bump && isUsed(ab) && word(astore).pointee == 0 {
      // Zeroed, as a finished allocation leaves it: its owner may read it
      // (a new object's header of kind 0 tells the reaper it never began).
      memset(base + ab + Arena.blockHeader, 0, sizeOf(ab) - Arena.blockHeader)
      word(astore).pointee = Int64(ab + Arena.blockHeader)
    }
    word(Arena.journalAllocStoreOffset).pointee = 0
  }

  private func blockContainingIsUsed(_ target: Int) -> Bool {
    var b = Arena.heapStart
    while b < bump {
      let s = sizeOf(b)
      if s < Arena.minBlock { return true }
      if target >= b && target < b + s { return isUsed(b) }
      b += s
    }
    return false
  }

  /// Whether the block at `offset` (as `allocate` returned it) is in use.
  func isAllocated(_ offset: Int) -> Bool {
    let b = offset - Arena.blockHeader
    guard b >= Arena.heapStart, b < bump else { return false }
    return isUsed(b)
  }

  /// Runs `body` under the arena's lock if `offset` is where a live block
  /// starts (as `allocate` returned it); nil otherwise. Under the lock no
  /// block is freed or handed out, so `body` sees the block stay what it
  /// is: how a weak reference (SharedHandle.strong) is checked. A block
  /// start is recognised by its links: its size leads to a block that says
  /// it follows one of that size, and its back link to a block of that size.
  func ifLiveBlock<T>(_ offset: Int, _ body: () -> T) -> T? {
    let b = offset - Arena.blockHeader
    guard b >= Arena.heapStart, b & 15 == 0, (try? lock()) != nil else { return nil }
    defer { unlock() }
    guard b < bump, isUsed(b) else { return nil }
    let s = sizeOf(b)
    guard s >= Arena.minBlock, b + s <= bump else { return nil }
    let after = b + s < bump ? prevSize(b + s) : Int(word(Arena.lastSizeOffset).pointee)
    guard after == s else { return nil }
    let p = prevSize(b)
    if b == Arena.heapStart {
      guard p == 0 else { return nil }
    } else {
      guard p >= Arena.minBlock, b - p >= Arena.heapStart, sizeOf(b - p) == p else { return nil }
    }
    return body()
  }

  /// The live blocks, as `allocate` returned them, with their sizes
  /// (headers included): a walk of the chain under the lock, for
  /// MP_DEBUG's `arena_blocks()`.
  func liveBlocks() -> [(offset: Int, size: Int)] {
    guard (try? lock()) != nil else { return [] }
    defer { unlock() }
    var out: [(offset: Int, size: Int)] = []
    var b = Arena.heapStart
    while b < bump {
      let s = sizeOf(b)
      if s < Arena.minBlock { break }
      if isUsed(b) { out.append((b + Arena.blockHeader, s)) }
      b += s
    }
    return out
  }

  /// Bytes handed out so far (for tests of reuse).
  public var highWater: Int { bump }
  /// Bytes held by live objects and queued items, headers included.
  public var usedBytes: Int { Int(mp_atomic_load(word(Arena.usedBytesOffset))) }
  /// The number of live blocks.
  public var usedBlocks: Int { Int(mp_atomic_load(word(Arena.usedBlocksOffset))) }
}
