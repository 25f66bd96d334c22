import CMPShim
import Glibc

// The string methods. Each works on the UTF-8 bytes with memchr/memmem-class
// loops: a separator or needle that is valid UTF-8 can only match at a
// scalar boundary, so byte offsets are converted to scalar offsets (what mp
// reports) only where a result is a position (`find`). Whitespace and line
// breaks are Python's (`str.isspace`, `str.splitlines`).

extension Interpreter {
  func stringMethod(_ s: String, _ name: String, _ args: [Value]) throws -> Value? {
    func argc(_ lo: Int, _ hi: Int) throws {
      if args.count < lo || args.count > hi {
        throw MPError(.type, "\(name)() takes \(Interpreter.arityText(lo, hi)), got \(args.count)")
      }
    }
    func strArg(_ i: Int) throws -> String {
      guard case .str(let x) = args[i] else {
        throw MPError(.type, "\(name)() needs a string argument, found \(args[i].typeName)")
      }
      return x
    }
    switch name {
    case "split":
      try argc(0, 1)
      if args.isEmpty || args[0].isNilValue { return .list(ListRef(splitWhitespace(s))) }
      let sep = try strArg(0)
      guard !sep.isEmpty else { throw MPError(.value, "split() separator is empty") }
      return .list(ListRef(splitExactly(s, sep)))
    case "lines": try argc(0, 0); return .list(ListRef(splitLines(s)))
    case "count":
      try argc(1, 1)
      let x = try strArg(0)
      guard !x.isEmpty else { return .int(s.scalarCount + 1) }
      return .int(countOccurrences(s, x))
    case "find":
      try argc(1, 1)
      guard let b = firstOccurrence(s, try strArg(0)) else { return .int(-1) }
      return .int(scalarOffset(s, byte: b))
    case "contains": try argc(1, 1); return .bool(firstOccurrence(s, try strArg(0)) != nil)
    case "replace":
      try argc(2, 2)
      return .str(replaceAll(s, try strArg(0), try strArg(1)))
    case "startswith": try argc(1, 1); return .bool(hasBytes(s, try strArg(0), atEnd: false))
    case "endswith": try argc(1, 1); return .bool(hasBytes(s, try strArg(0), atEnd: true))
    case "strip", "lstrip", "rstrip":
      try argc(0, 0)
      return .str(stripSpace(s, leading: name != "rstrip", trailing: name != "lstrip"))
    case "join":
      try argc(1, 1)
      if case .list(let l) = args[0], let r = l.items.withUnsafeBufferPointer({ joinStrings(s, $0) }) {
        return .str(r)
      }
      let items = try iterate(args[0])
      if let r = items.withUnsafeBufferPointer({ joinStrings(s, $0) }) { return .str(r) }
      // Not all strings: the str forms, appended in the VM's byte stack, one String made at the end.
      let start = vm.pointee.scratch.count
      var first = true
      for v in items {
        if !first { vm.pointee.scratch.append(s) }
        first = false
        if case .str(let x) = v { vm.pointee.scratch.append(x) } else { vm.pointee.scratch.append(v.str) }
      }
      return .str(vm.pointee.scratch.take(from: start))
    case "slice":
      try argc(1, 2)
      let (a, b) = try sliceBounds(args, count: s.scalarCount)
      return .str(stringSlice(s, from: a, to: max(a, b)))
    case "upper": try argc(0, 0); return .str(s.uppercased())
    case "lower": try argc(0, 0); return .str(s.lowercased())
    default: return nil
    }
  }
}

// MARK: joining

/// `sep.join(items)` when every item is a string (nil otherwise): the
/// length first, then each piece copied once into the result.
func joinStrings(_ sep: String, _ items: UnsafeBufferPointer<Value>) -> String? {
  var total = 0
  for i in items.indices {
    guard case .str(let x) = items[i] else { return nil }
    total += x.utf8.count
  }
  if items.count > 1 { total += sep.utf8.count * (items.count - 1) }
  if total == 0 { return "" }
  return sep.withBytes { sp in
    String(unsafeUninitializedCapacity: total) { out in
      guard let o = out.baseAddress else { return 0 }
      var w = 0
      for i in items.indices {
        if i > 0 { copyBytes(o + w, sp); w += sp.count }
        guard case .str(let x) = items[i] else { continue }
        x.utf8.withContiguousStorageIfAvailable { b in copyBytes(o + w, b); w += b.count }
      }
      return w
    }
  }
}

/// memcpy, without the call for the short pieces joins are made of.
@inline(__always)
func copyBytes(_ to: UnsafeMutablePointer<UInt8>, _ from: UnsafeBufferPointer<UInt8>) {
  let n = from.count
  guard n > 0, let p = from.baseAddress else { return }
  if n > 16 { memcpy(to, p, n); return }
  for i in 0..<n { to[i] = p[i] }
}

// MARK: searching

/// Byte offset of the first occurrence of `sub` in `s` (0 for "").
func firstOccurrence(_ s: String, _ sub: String) -> Int? {
  s.withBytes { h in
    sub.withBytes { n in
      guard n.count > 0 else { return 0 }
      guard n.count <= h.count, let hp = h.baseAddress else { return nil }
      guard let r = mp_memmem(hp, h.count, n.baseAddress, n.count) else { return nil }
      return r - hp
    }
  }
}

/// Non-overlapping occurrences of non-empty `sub`, as Python counts them.
func countOccurrences(_ s: String, _ sub: String) -> Int {
  s.withBytes { h in
    sub.withBytes { n in
      guard n.count <= h.count, let hp = h.baseAddress, let np = n.baseAddress else { return 0 }
      return mp_count_sub(hp, h.count, np, n.count)
    }
  }
}

/// Byte offsets of every non-overlapping occurrence of non-empty `sub`.
func occurrences(_ h: UnsafeBufferPointer<UInt8>, _ n: UnsafeBufferPointer<UInt8>) -> [Int] {
  var out: [Int] = []
  guard n.count <= h.count, let hp = h.baseAddress, let np = n.baseAddress else { return out }
  var at = 0
  if n.count == 1 {
    while at < h.count, let r = memchr(hp + at, Int32(np[0]), h.count - at) {
      let i = UnsafePointer<UInt8>(r.assumingMemoryBound(to: UInt8.self)) - hp
      out.append(i)
      at = i + 1
    }
    return out
  }
  while let r = mp_memmem(hp + at, h.count - at, np, n.count) {
    out.append(r - hp)
    at = r - hp + n.count
  }
  return out
}

func hasBytes(_ s: String, _ x: String, atEnd: Bool) -> Bool {
  s.withBytes { h in
    x.withBytes { p in
      guard p.count > 0 else { return true }
      guard p.count <= h.count else { return false }
      return memcmp(h.baseAddress! + (atEnd ? h.count - p.count : 0), p.baseAddress!, p.count) == 0
    }
  }
}

// MARK: cutting

/// `s.split(sep)`: every piece between occurrences, empty ones kept.
func splitExactly(_ s: String, _ sep: String) -> [Value] {
  s.withBytes { h in
    sep.withBytes { n in
      guard let p = h.baseAddress, let np = n.baseAddress, n.count <= h.count else { return [.str(s)] }
      var out: [Value] = []
      var pieces = PieceMaker(h, ascii: s.isASCIIFast)
      defer { pieces.free() }
      var start = 0
      if n.count == 1 {
        // Sized first, as in `splitLines`.
        out.reserveCapacity(mp_count_byte(p, h.count, np[0]) + 1)
        // Pieces are short (words, fields): look at a few bytes before
        // paying for a memchr call.
        let c = np[0]
        var i = 0
        while i < h.count {
          if p[i] != c {
            let stop = min(i + 16, h.count)
            i += 1
            while i < stop && p[i] != c { i += 1 }
            if i == stop {
              guard let r = memchr(p + i, Int32(c), h.count - i) else { break }
              i = UnsafePointer<UInt8>(r.assumingMemoryBound(to: UInt8.self)) - p
            }
            if i >= h.count { break }
          }
          out.append(pieces.make(p + start, i - start))
          i += 1
          start = i
        }
      } else {
        while let r = mp_memmem(p + start, h.count - start, np, n.count) {
          out.append(pieces.make(p + start, r - p - start))
          start = r - p + n.count
        }
      }
      if out.isEmpty { return [.str(s)] }
      out.append(pieces.make(p + start, h.count - start))
      return out
    }
  }
}

/// `s.split()`: the runs of non-whitespace.
func splitWhitespace(_ s: String) -> [Value] {
  s.withBytes { h in
    guard let p = h.baseAddress else { return [] }
    let n = h.count
    var out: [Value] = []
    var pieces = PieceMaker(h, ascii: s.isASCIIFast)
    defer { pieces.free() }
    var i = 0
    while true {
      while i < n, case let k = spaceLength(p, i), k > 0 { i += k }
      if i >= n { break }
      let start = i
      i += 1
      while i < n && spaceLength(p, i) == 0 { i += 1 }
      out.append(pieces.make(p + start, i - start))
    }
    return out
  }
}

/// `s.lines()`: Python's `splitlines()` — the text between line breaks
/// (\n, \r\n, \r, \v, \f, \x1c–\x1e, U+0085, U+2028, U+2029); a break at
/// the very end does not start another, empty line.
func splitLines(_ s: String) -> [Value] {
  s.withBytes { h in
    guard let p = h.baseAddress else { return [] }
    let n = h.count
    var out: [Value] = []
    // Sized first (every "\n" ends a line; the other breaks are rare): growing
    // a list of 50,000 lines step by step made malloc merge its free lists
    // at each step, which cost more than making the lines.
    out.reserveCapacity(mp_count_byte(p, n, 0x0A) + 1)
    var pieces = PieceMaker(h, ascii: s.isASCIIFast)
    defer { pieces.free() }
    var start = 0
    // The candidates (bytes that may start a break) come from C a few
    // hundred at a time: one call per line was a quarter of the work.
    withUnsafeTemporaryAllocation(of: Int.self, capacity: 256) { found in
      var from = 0
      while from < n {
        var next = 0
        let count = mp_line_break_candidates(p, n, from, found.baseAddress, 256, &next)
        for j in 0..<count {
          let i = found[j]
          // (the \n of a \r\n is a candidate too, inside the break taken)
          guard i >= start, case let k = lineBreakLength(p, i, n), k > 0 else { continue }
          out.append(pieces.make(p + start, i - start))
          start = i + k
        }
        from = next
      }
    }
    if start < n { out.append(pieces.make(p + start, n - start)) }
    return out
  }
}

/// Bytes of the line break at byte `i`, or 0 for none.
@inline(__always)
func lineBreakLength(_ p: UnsafePointer<UInt8>, _ i: Int, _ n: Int) -> Int {
  switch p[i] {
  case 0x0D: return i + 1 < n && p[i + 1] == 0x0A ? 2 : 1
  case 0x0A, 0x0B, 0x0C, 0x1C, 0x1D, 0x1E: return 1
  case 0xC2: return p[i + 1] == 0x85 ? 2 : 0
  case 0xE2: return p[i + 1] == 0x80 && (p[i + 2] == 0xA8 || p[i + 2] == 0xA9) ? 3 : 0
  default: return 0
  }
}

/// Bytes of the whitespace scalar at byte `i` (Python's `str.isspace`), or
/// 0 when it is not whitespace. `i` is a scalar start or a continuation
/// byte (never whitespace).
@inline(__always)
func spaceLength(_ p: UnsafePointer<UInt8>, _ i: Int) -> Int {
  let b = p[i]
  if b > 0x20 {
    if b < 0xC2 || b > 0xE3 { return 0 }
    return multibyteSpaceLength(p, i)
  }
  return b == 0x20 || (b >= 0x09 && b <= 0x0D) || b >= 0x1C ? 1 : 0
}

@inline(never)
func multibyteSpaceLength(_ p: UnsafePointer<UInt8>, _ i: Int) -> Int {
  let c = p[i + 1]
  switch p[i] {
  case 0xC2: return c == 0x85 || c == 0xA0 ? 2 : 0                 // U+0085, U+00A0
  case 0xE1: return c == 0x9A && p[i + 2] == 0x80 ? 3 : 0          // U+1680
  case 0xE2:
    let d = p[i + 2]
    if c == 0x80 && (d <= 0x8A || d == 0xA8 || d == 0xA9 || d == 0xAF) { return 3 }  // U+2000–200A, 2028, 2029, 202F
    return c == 0x81 && d == 0x9F ? 3 : 0                          // U+205F
  case 0xE3: return c == 0x80 && p[i + 2] == 0x80 ? 3 : 0          // U+3000
  default: return 0
  }
}

/// Bytes of the whitespace scalar that ends just before byte `end`, or 0.
func spaceLengthBefore(_ p: UnsafePointer<UInt8>, _ end: Int) -> Int {
  var i = end - 1
  while i > 0 && p[i] & 0xC0 == 0x80 && end - i < 4 { i -= 1 }
  let k = spaceLength(p, i)
  return k == end - i ? k : 0
}

func stripSpace(_ s: String, leading: Bool, trailing: Bool) -> String {
  let (a, b) = s.withBytes { h -> (Int, Int) in
    guard let p = h.baseAddress else { return (0, 0) }
    var a = 0
    var b = h.count
    if leading { while a < b, case let k = spaceLength(p, a), k > 0 { a += k } }
    if trailing { while b > a, case let k = spaceLengthBefore(p, b), k > 0 { b -= k } }
    return (a, b)
  }
  if a == 0 && b == s.utf8.count { return s }
  return a < b ? byteSlice(s, a, b) : ""
}

/// `s.replace(old, new)`, every occurrence; an empty `old` matches before
/// every scalar and at the end, as in Python.
func replaceAll(_ s: String, _ old: String, _ new: String) -> String {
  s.withBytes { h in
    old.withBytes { o in
      new.withBytes { r in
        guard let hp = h.baseAddress else { return old.isEmpty ? new : s }
        if o.count == 1 && r.count == 1 {
          let a = o[0], b = r[0]
          guard memchr(hp, Int32(a), h.count) != nil else { return s }
          return String(unsafeUninitializedCapacity: h.count) { out in
            mp_replace_byte(out.baseAddress, hp, h.count, a, b)
            return h.count
          }
        }
        var at: [Int]
        if o.count == 0 {
          at = []
          var i = 0
          while i < h.count { at.append(i); i += utf8Length(lead: hp[i]) }
          at.append(h.count)
        } else {
          at = occurrences(h, o)
        }
        if at.isEmpty { return s }
        let total = h.count + at.count * (r.count - o.count)
        return String(unsafeUninitializedCapacity: total) { out in
          guard let op = out.baseAddress else { return 0 }
          var w = 0
          var start = 0
          for i in at {
            (op + w).update(from: hp + start, count: i - start)
            w += i - start
            if let rp = r.baseAddress { (op + w).update(from: rp, count: r.count) }
            w += r.count
            start = i + o.count
          }
          (op + w).update(from: hp + start, count: h.count - start)
          return w + h.count - start
        }
      }
    }
  }
}

// MARK: making the pieces

/// Makes the strings cut from one large text. Short pieces (up to 15
/// bytes: Swift keeps them inline) that repeat — words, fields, numbers —
/// share one value from a small table instead of each allocating a box:
/// splitting text into words is mostly this.
struct PieceMaker {
  private var slots = 0
  private var shift: UInt64 = 63
  private var keys: UnsafeMutablePointer<UInt64>?
  private var values: UnsafeMutablePointer<Value>?
  /// The end of the text the pieces are cut from (loads stay before it).
  private let end: UnsafePointer<UInt8>?
  /// True when the text is all ASCII (so is every piece); nil: unknown.
  private let ascii: Bool?

  init(_ text: UnsafeBufferPointer<UInt8>, ascii: Bool) {
    self.ascii = ascii ? true : nil
    let textBytes = text.count
    end = text.baseAddress.map { $0 + textBytes }
    // Not worth a table for a short text; a larger text gets more slots
    // (up to 16,384) so that rare pieces evict common ones less often.
    guard textBytes >= 4096 else { return }
    var bits = 10
    while bits < 14 && (1 << bits) * 32 < textBytes { bits += 1 }
    slots = 1 << bits
    shift = UInt64(64 - bits)
    keys = .allocate(capacity: 2 * slots)
    keys!.initialize(repeating: 0, count: 2 * slots)
    values = .allocate(capacity: slots)
    values!.initialize(repeating: .nil, count: slots)
  }

  mutating func free() {
    keys?.deallocate()
    values?.deinitialize(count: slots)
    values?.deallocate()
    keys = nil
    values = nil
  }

  @inline(__always)
  mutating func make(_ p: UnsafePointer<UInt8>, _ n: Int) -> Value {
    if n == 1 && p[0] < 0x80 { return asciiCharValues[Int(p[0])] }
    guard n > 1 && n <= 15, let keys, let values, let end else { return .str(makeString(p, n, ascii: ascii)) }
    var w0: UInt64
    var w1: UInt64
    if p + 16 <= end {
      // Two loads, the bytes past the piece masked off.
      let raw = UnsafeRawPointer(p)
      w0 = raw.loadUnaligned(as: UInt64.self)
      w1 = raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
      if n < 8 { w0 &= (1 << UInt64(8 * n)) &- 1 }
      w1 = n <= 8 ? 0 : w1 & ((1 << UInt64(8 * (n - 8))) &- 1)
    } else {
      var w: (UInt64, UInt64) = (0, 0)
      withUnsafeMutableBytes(of: &w) { $0.baseAddress!.copyMemory(from: p, byteCount: n) }
      (w0, w1) = w
    }
    w1 |= UInt64(n) << 56
    let h = Int(truncatingIfNeeded: ((w0 &* 0x9E37_79B9_7F4A_7C15) ^ (w1 &* 0xC2B2_AE3D_27D4_EB4F)) >> shift)
    if keys[2 * h] == w0 && keys[2 * h + 1] == w1 { return values[h] }
    let v = Value.str(makeString(p, n))
    keys[2 * h] = w0
    keys[2 * h + 1] = w1
    values[h] = v
    return v
  }
}
