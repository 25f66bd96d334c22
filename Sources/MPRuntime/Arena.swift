import CMPShim
import Glibc
import MPLanguage

/// One shared memory region, mapped before the first fork, so every process
/// of the program sees the same bytes at the same address. Locks,
/// semaphores, shared cells, queue buffers and the process table live in
/// it, and a handle is just an offset into it: it means the same thing in
/// every process, whenever that process was forked.
public final class Arena {
  /// The arena of this program (created by `Runtime.install`).
  nonisolated(unsafe) public static var shared: Arena! = nil

  public let base: UnsafeMutableRawPointer
  public let size: Int

  // Header layout (offsets in bytes).
  static let magicOffset = 0
  static let bumpOffset = 8
  static let liveOffset = 16          // live child processes of the whole program
  static let nextIdOffset = 24        // counter for handle numbers (`<lock 3>`)
  static let largeFreeOffset = 32
  static let classHeadsOffset = 64    // 24 size classes × 8 bytes
  static let mutexOffset = 320        // the allocator's robust mutex
  static let headerSize = 4096
  static let procTableOffset = headerSize
  static let procEntrySize = 128
  public static let procCapacity = 2048
  static let heapStart = procTableOffset + procEntrySize * procCapacity

  static let minClass = 5              // 32 bytes
  static let maxClass = 24             // 16 MiB; larger blocks use the large list
  static let blockHeader = 16

  init(size: Int) throws {
    let p = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
    guard let p, p != MAP_FAILED else {
      throw MPError("process", "cannot map the shared arena (\(size >> 20) MiB): \(String(cString: strerror(errno)))")
    }
    base = p
    self.size = size
    word(Arena.magicOffset).pointee = 0x6D70_6172_656E_61  // "mparena"
    word(Arena.bumpOffset).pointee = Int64(Arena.heapStart)
    let rc = mp_mutex_init(base + Arena.mutexOffset)
    if rc != 0 { throw MPError("process", "cannot initialise the arena lock: \(String(cString: strerror(rc)))") }
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

  // MARK: allocation

  private func lock() throws {
    let rc = mp_mutex_lock(base + Arena.mutexOffset, -1)
    if rc == EINTR {
      mp_interrupt_flag = 0
      throw MPError("interrupt", "interrupted")
    }
    if rc != 0 && rc != 1 { throw MPError("process", "arena lock failed: \(String(cString: strerror(rc)))") }
  }

  private func unlock() { _ = mp_mutex_unlock(base + Arena.mutexOffset) }

  static func sizeClass(_ n: Int) -> Int {
    var c = minClass
    while (1 << c) < n + blockHeader { c += 1 }
    return c
  }

  /// Allocates `n` zeroed bytes, 16-byte aligned; returns the offset.
  /// Any process may call it; freed blocks are reused.
  public func allocate(_ n: Int) throws -> Int {
    guard n >= 0, n < size / 2 else { throw MPError("value", "cannot allocate \(n) bytes in the shared arena") }
    try lock()
    defer { unlock() }
    let cls = Arena.sizeClass(n)
    var off: Int
    var blockSize: Int
    if cls <= Arena.maxClass {
      blockSize = 1 << cls
      let head = word(Arena.classHeadsOffset + 8 * (cls - Arena.minClass))
      if head.pointee != 0 {
        off = Int(head.pointee)
        head.pointee = (base + off + 8).load(as: Int64.self)
      } else {
        off = try bump(blockSize)
      }
    } else {
      blockSize = (n + Arena.blockHeader + 4095) & ~4095
      off = try takeLarge(blockSize) ?? bump(blockSize)
      if let existing = Optional(Int((base + off).load(as: Int64.self))), existing > blockSize { blockSize = existing }
    }
    (base + off).storeBytes(of: Int64(blockSize), as: Int64.self)
    (base + off + 8).storeBytes(of: Int64(cls), as: Int64.self)
    memset(base + off + Arena.blockHeader, 0, blockSize - Arena.blockHeader)
    return off + Arena.blockHeader
  }

  private func bump(_ n: Int) throws -> Int {
    let b = word(Arena.bumpOffset)
    let off = Int(b.pointee)
    guard off + n <= size else {
      throw MPError("value", "the shared arena is full (\(size >> 20) MiB of locks, queues and shared cells)")
    }
    b.pointee = Int64(off + n)
    return off
  }

  private func takeLarge(_ n: Int) throws -> Int? {
    var prev = word(Arena.largeFreeOffset)
    var cur = Int(prev.pointee)
    while cur != 0 {
      let sz = Int((base + cur).load(as: Int64.self))
      let next = (base + cur + 8).load(as: Int64.self)
      if sz >= n {
        prev.pointee = next
        return cur
      }
      prev = (base + cur + 8).assumingMemoryBound(to: Int64.self)
      cur = Int(next)
    }
    return nil
  }

  /// Returns a block to the arena.
  public func free(_ offset: Int) {
    let off = offset - Arena.blockHeader
    guard off >= Arena.heapStart, off < size else { return }
    guard (try? lock()) != nil else { return }
    defer { unlock() }
    let cls = Int((base + off + 8).load(as: Int64.self))
    if cls >= Arena.minClass && cls <= Arena.maxClass {
      let head = word(Arena.classHeadsOffset + 8 * (cls - Arena.minClass))
      (base + off + 8).storeBytes(of: head.pointee, as: Int64.self)
      head.pointee = Int64(off)
    } else {
      let head = word(Arena.largeFreeOffset)
      (base + off + 8).storeBytes(of: head.pointee, as: Int64.self)
      head.pointee = Int64(off)
    }
  }

  /// Bytes handed out so far (for tests of reuse).
  public var highWater: Int { Int(word(Arena.bumpOffset).pointee) }
}
