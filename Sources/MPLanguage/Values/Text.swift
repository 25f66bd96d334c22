import CMPShim
import Glibc

// Strings are Swift strings (UTF-8 inside); mp counts, indexes and slices
// them by Unicode scalar, as Python does by code point. Doing that by
// walking the bytes each time made `s[i]` in a loop quadratic, so:
// - an ASCII string (one byte per scalar) is indexed by byte, in O(1);
//   whether a string is ASCII is known in O(1) because Swift records it in
//   every native string it makes (decoded, appended, interpolated, read
//   from a pipe), and a small string (up to 15 bytes) is scanned;
// - a longer non-ASCII string gets a `ScalarIndex` (the byte offset of
//   every 64th scalar) built in one pass on first use and kept for the few
//   strings used most recently, so a loop over `s[i]` or `len(s)` makes
//   that pass once.

extension String {
  /// True when every scalar is ASCII; O(1) (see above).
  @inline(__always)
  var isASCIIFast: Bool {
    if _guts._isContiguousASCII { return true }
    if utf8.count > 15 { return false }
    var s = self
    return s.withUTF8 { mp_is_ascii($0.baseAddress, $0.count) != 0 }
  }

  /// The number of Unicode scalars (what `len` counts): O(1) for ASCII
  /// strings, one pass (then O(1) while the string stays in the index
  /// cache) for others.
  var scalarCount: Int {
    if isASCIIFast { return utf8.count }
    if utf8.count < indexedStringBytes { return withBytes { mp_count_scalars($0.baseAddress, $0.count) } }
    return withTextIndex(self) { _, _, index in index.count }
  }

  /// Calls `body` with the string's UTF-8 bytes (no copy for native strings).
  @inline(__always)
  func withBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
    var s = self
    return try s.withUTF8(body)
  }
}

/// A string made of `n` bytes at `p`, which must be valid UTF-8 cut at
/// scalar boundaries (every caller cuts an existing string): they are
/// copied without being validated again. `ascii` says whether they are all
/// ASCII when the caller knows (a piece of an ASCII text); otherwise a
/// string longer than 15 bytes is scanned for it.
@inline(__always)
func makeString(_ p: UnsafePointer<UInt8>?, _ n: Int, ascii: Bool? = nil) -> String {
  guard let p, n > 0 else { return "" }
  if n <= 15 && mp_small_strings_in_place != 0 { return StringBits.small(p, n) }
  // A small string (n <= 15) finds its ASCII flag itself.
  let isASCII = n <= 15 ? false : ascii ?? (mp_is_ascii(p, n) != 0)
  return stringFromValidUTF8(UnsafeBufferPointer(start: p, count: n), isASCII: isASCII)
}

/// The standard library's own constructor behind `String(decoding:)`, after
/// validation: `String._uncheckedFromUTF8(_:isASCII:)`, a static method on
/// a struct (its thin metatype is no argument), exported as ABI
/// (@usableFromInline). `String(decoding:)` validated each piece again and
/// scanned it for ASCII: a third of making a 40-byte line.
@_silgen_name("$sSS18_uncheckedFromUTF8_7isASCIISSSRys5UInt8VG_SbtFZ")
func stringFromValidUTF8(_ input: UnsafeBufferPointer<UInt8>, isASCII: Bool) -> String

/// The bytes `a..<b` of `s` (scalar boundaries) as a new string. A long
/// piece is appended to an empty string as a substring: that copies the
/// bytes and takes the ASCII flag from `s` when it has one, where
/// decoding them (`makeString`) validates and scans them again, 2-4x
/// slower per byte. A short one is decoded: the substring costs more than
/// the scan there.
func byteSlice(_ s: String, _ a: Int, _ b: Int) -> String {
  if b - a < 1024 { return s.withBytes { makeString($0.baseAddress! + a, b - a) } }
  let u = s.utf8
  let i = u.index(u.startIndex, offsetBy: a), j = u.index(u.startIndex, offsetBy: b)
  var out = ""
  out.reserveCapacity(b - a)
  out.append(contentsOf: s[i..<j])
  return out
}

/// The one-character strings of ASCII as values: `s[i]` and `for c in s`
/// on ASCII text share them instead of allocating.
let asciiCharValues: [Value] = (0..<128).map { .str(String(UnicodeScalar(UInt8($0)))) }

/// The same values where compiled code can reach them without the check
/// of a lazily initialised global (code captures this pointer once).
let asciiCharTable: UnsafePointer<Value> = {
  let p = UnsafeMutablePointer<Value>.allocate(capacity: 128)
  p.initialize(from: asciiCharValues, count: 128)
  return UnsafePointer(p)
}()

/// The one-character strings of U+0080 to U+07FF (two UTF-8 bytes: Latin,
/// Greek, Cyrillic, Hebrew, Arabic...), made on first use and kept, as
/// Python keeps those of Latin-1: `s[i]` on accented text allocates once
/// per character, not once per index.
let twoByteCharTable: UnsafeMutablePointer<Value> = {
  let p = UnsafeMutablePointer<Value>.allocate(capacity: 0x800)
  p.initialize(repeating: .nil, count: 0x800)
  return p
}()

/// The value of the one-scalar string at byte `i` of `p` (a scalar start).
/// Compiled code passes the table it captured (a global read is a lazy
/// initialisation check).
@inline(__always)
func charValue(_ p: UnsafePointer<UInt8>, _ i: Int, _ ascii: UnsafePointer<Value> = asciiCharTable,
               _ twoByte: UnsafeMutablePointer<Value> = twoByteCharTable) -> Value {
  let b = p[i]
  if b < 0x80 { return ascii[Int(b)] }
  if b < 0xE0 { return twoByteChar(p, i, twoByte) }
  return .str(makeString(p + i, utf8Length(lead: b)))
}

@inline(__always)
func twoByteChar(_ p: UnsafePointer<UInt8>, _ i: Int, _ table: UnsafeMutablePointer<Value>) -> Value {
  let slot = table + (Int(p[i] & 0x1F) << 6 | Int(p[i + 1] & 0x3F))
  if case .nil = slot.pointee { slot.pointee = .str(makeString(p + i, 2)) }
  return slot.pointee
}

/// Bytes of the scalar whose first byte is `lead`.
@inline(__always)
func utf8Length(lead: UInt8) -> Int {
  lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4
}

// MARK: the scalar index of non-ASCII strings

/// Byte offsets of every 64th scalar of a non-ASCII string, and the last
/// position looked up (a loop walking `s[i]` forward steps from it).
/// (Unchecked exclusivity: a loop over `s[i]` reads and moves the last
/// position at every index; the dynamic checks cost more than the walk.)
final class ScalarIndex {
  @exclusivity(unchecked) private(set) var count = 0
  @exclusivity(unchecked) private(set) var bytes = 0
  @exclusivity(unchecked) private var marks: [Int] = []
  @exclusivity(unchecked) private var lastScalar = 0
  @exclusivity(unchecked) private var lastByte = 0

  init(_ p: UnsafeBufferPointer<UInt8>) { extend(p) }

  /// Takes in the bytes from `bytes` on (the string grew by an append).
  /// In C, 64 bytes at a time: `len(s)` of a 2 MB text pays this pass
  /// once, where Python knows the length from the start.
  func extend(_ p: UnsafeBufferPointer<UInt8>) {
    guard let base = p.baseAddress, p.count > bytes else { return }
    let n = p.count
    let had = marks.count
    marks.append(contentsOf: repeatElement(0, count: (n - bytes) / 64 + 1))
    var k = count
    let added = marks.withUnsafeMutableBufferPointer { m in mp_scalar_marks(base, bytes, n, &k, m.baseAddress! + had) }
    marks.removeLast(marks.count - had - added)
    count = k
    bytes = n
  }

  /// Byte offset of scalar `k` (0 ≤ k ≤ count; `count` gives the end).
  /// The scalar after the last one looked up (a loop over `s[i]` or
  /// `s[i:j]`) is one step from it, without the marks.
  @inline(__always)
  func byteOffset(_ p: UnsafePointer<UInt8>, scalar k: Int) -> Int {
    if k == lastScalar &+ 1 && k < count {
      let b = lastByte &+ utf8Length(lead: p[lastByte])
      lastScalar = k
      lastByte = b
      return b
    }
    return byteOffsetFromMark(p, scalar: k)
  }

  @inline(never)
  func byteOffsetFromMark(_ p: UnsafePointer<UInt8>, scalar k: Int) -> Int {
    if k >= count { return bytes }
    var s = k & ~63
    var b = marks[k >> 6]
    if lastScalar <= k && lastScalar > s { s = lastScalar; b = lastByte }
    while s < k {
      b += utf8Length(lead: p[b])
      s += 1
    }
    lastScalar = k
    lastByte = b
    return b
  }

  /// Scalar offset of byte `b` (a scalar start, or the end).
  func scalarOffset(_ p: UnsafePointer<UInt8>, byte b: Int) -> Int {
    if b >= bytes { return count }
    // The last mark at or before b, by binary search.
    var lo = 0
    var hi = marks.count - 1
    while lo < hi {
      let mid = (lo + hi + 1) >> 1
      if marks[mid] <= b { lo = mid } else { hi = mid - 1 }
    }
    return lo * 64 + mp_count_scalars(p + marks[lo], b - marks[lo])
  }
}

/// Strings shorter than this are scanned instead of indexed.
let indexedStringBytes = 256

/// The indexes of the strings used most recently. Each entry keeps its
/// string alive, so the address of its bytes identifies it.
struct TextIndexCache {
  struct Entry {
    var string: String
    var base: UnsafeRawPointer
    var index: ScalarIndex
  }
  var entries: [Entry] = [] {
    didSet {
      textFront.base = entries.first?.base
      textFront.bytes = entries.first?.index.bytes ?? -1
      textFront.index = entries.first.map { Unmanaged.passUnretained($0.index) }
    }
  }
  static let capacity = 4

  mutating func find(_ base: UnsafeRawPointer, bytes: Int) -> Int? {
    for i in entries.indices where entries[i].base == base && entries[i].index.bytes == bytes {
      return i
    }
    return nil
  }

  mutating func insert(_ e: Entry) {
    if entries.count >= TextIndexCache.capacity { entries.removeLast() }
    entries.insert(e, at: 0)
  }
}

/// The first entry of the cache, where compiled code reading a string in
/// place finds its index: code captures this object when it is made (a
/// global is a lazy-initialisation check at every read), and the index is
/// not retained (the entry keeps it alive while it is first).
final class TextFront {
  @exclusivity(unchecked) var base: UnsafeRawPointer?
  @exclusivity(unchecked) var bytes = -1
  @exclusivity(unchecked) var index: Unmanaged<ScalarIndex>?

  /// The index of the string whose `bytes` bytes are at `base`, when it
  /// is the one used last (a loop over one string's characters).
  @inline(__always)
  func index(of base: UnsafeRawPointer, bytes: Int) -> Unmanaged<ScalarIndex>? {
    base == self.base && bytes == self.bytes ? index : nil
  }
}

let textFront = TextFront()

/// Unchecked: `s += t` reads it on every append (a checked global access
/// was a tenth of an append).
@exclusivity(unchecked) nonisolated(unsafe) var textIndexCache = TextIndexCache()

/// Runs `body` with the bytes of non-ASCII `s` and its scalar index, made
/// on first use. Strings shorter than `indexedStringBytes` get a throw-away
/// index (one short pass).
func withTextIndex<R>(_ s: String, _ body: (UnsafePointer<UInt8>, Int, ScalarIndex) throws -> R) rethrows -> R {
  try s.withBytes { buf in
    guard let p = buf.baseAddress else { return try body(UnsafePointer(bitPattern: 1)!, 0, ScalarIndex(buf)) }
    if buf.count < indexedStringBytes { return try body(p, buf.count, ScalarIndex(buf)) }
    let base = UnsafeRawPointer(p)
    if let i = textIndexCache.find(base, bytes: buf.count) {
      let index = textIndexCache.entries[i].index
      if i > 0 { textIndexCache.entries.swapAt(0, i) }
      return try body(p, buf.count, index)
    }
    let index = ScalarIndex(buf)
    // The entry's copy of `s` shares its storage, so `base` stays valid.
    textIndexCache.insert(.init(string: s, base: base, index: index))
    return try body(p, buf.count, index)
  }
}

/// `x += y` for strings: appends in place when `x` is not shared. A cached
/// index of `x` would share it (every append would copy the whole string),
/// so its entry is taken out first, extended by the new bytes and put back.
@inline(__always)
func appendString(_ x: inout String, _ y: String) {
  if withUnsafeMutablePointer(to: &x, { StringBits.appendSmallASCII($0, y) }) { return }
  if textIndexCache.entries.isEmpty || x.isASCIIFast {
    x += y
    return
  }
  appendIndexed(&x, y)
}

@inline(never)
func appendIndexed(_ x: inout String, _ y: String) {
  let n = x.utf8.count
  guard let base = x.utf8.withContiguousStorageIfAvailable({ UnsafeRawPointer($0.baseAddress) }) ?? nil,
        let i = textIndexCache.find(base, bytes: n) else {
    x += y
    return
  }
  let entry = textIndexCache.entries.remove(at: i)
  let index = entry.index
  _ = consume entry
  x += y
  x.withBytes { buf in
    index.extend(buf)
    if let p = buf.baseAddress {
      textIndexCache.insert(.init(string: x, base: UnsafeRawPointer(p), index: index))
    }
  }
}

// MARK: indexing and slicing by scalar

/// `s[i]`: O(1) on ASCII strings, an index built once on others.
func indexString(_ s: String, _ i: Value, _ loc: SourceLocation) throws -> Value {
  if case .int(var k) = i, s.isASCIIFast {
    let n = s.utf8.count
    if k < 0 { k += n }
    if k >= 0 && k < n { return s.withBytes { asciiCharValues[Int($0[k])] } }
  }
  return stringChar(s, at: try normalizeIndex(i, count: s.scalarCount, what: "string", loc))
}

/// `s[k]` for 0 ≤ k < len(s).
func stringChar(_ s: String, at k: Int) -> Value {
  if s.isASCIIFast { return s.withBytes { asciiCharValues[Int($0[k])] } }
  return withTextIndex(s) { p, _, index in charValue(p, index.byteOffset(p, scalar: k)) }
}

/// `s[a:b]` for 0 ≤ a ≤ b ≤ len(s) (scalar offsets).
func stringSlice(_ s: String, from a: Int, to b: Int) -> String {
  if a >= b { return "" }
  if s.isASCIIFast { return byteSlice(s, a, b) }
  let (x, y) = withTextIndex(s) { p, _, index in (index.byteOffset(p, scalar: a), index.byteOffset(p, scalar: b)) }
  return byteSlice(s, x, y)
}

/// The `count` scalars of `s` at `start`, `start + step`, ... (positions
/// already valid, as `sliceIndices` gives them): every string slice goes
/// through here. One copy of the bytes taken; O(1) to find them in an
/// ASCII string, the scalar index in others.
public func stringSlice(_ s: String, start: Int, step: Int, count: Int) -> String {
  if count <= 0 { return "" }
  if step == 1 { return stringSlice(s, from: start, to: start + count) }
  var out: [UInt8] = []
  let take = { (p: UnsafePointer<UInt8>, at: (Int) -> Int) in
    var k = start
    for _ in 0..<count {
      let i = at(k)
      out.append(contentsOf: UnsafeBufferPointer(start: p + i, count: utf8Length(lead: p[i])))
      k &+= step  // past the last scalar it is never read
    }
  }
  if s.isASCIIFast {
    out.reserveCapacity(count)
    s.withBytes { buf in if let p = buf.baseAddress { take(p) { $0 } } }
  } else {
    withTextIndex(s) { p, _, index in take(p) { index.byteOffset(p, scalar: $0) } }
  }
  return String(decoding: out, as: UTF8.self)
}

/// The scalar offset of byte offset `b` of `s` (a scalar start).
func scalarOffset(_ s: String, byte b: Int) -> Int {
  if s.isASCIIFast { return b }
  return withTextIndex(s) { p, _, index in index.scalarOffset(p, byte: b) }
}

/// UTF-8 order is code point order: `<` on strings compares bytes.
func utf8Precedes(_ x: String, _ y: String) -> Bool {
  x.withBytes { a in
    y.withBytes { b in
      let n = min(a.count, b.count)
      if n > 0 {
        let c = memcmp(a.baseAddress!, b.baseAddress!, n)
        if c != 0 { return c < 0 }
      }
      return a.count < b.count
    }
  }
}

/// The one-scalar strings of `s`, in order (`for c in s`, `list(s)`).
func stringChars(_ s: String) -> [Value] {
  var out: [Value] = []
  out.reserveCapacity(s.utf8.count)
  s.withBytes { buf in
    guard let p = buf.baseAddress else { return }
    var i = 0
    while i < buf.count {
      out.append(charValue(p, i))
      i += utf8Length(lead: p[i])
    }
  }
  return out
}
