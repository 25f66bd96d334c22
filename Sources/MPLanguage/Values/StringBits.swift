import CMPShim
import Glibc

/// Reading a string value in place, from its bits, and making short ASCII
/// strings from bytes: what `s[i]`, `len(s)` and `s[a:b]` on a local do in
/// a loop.
///
/// Copying a `String` out of a value to look at it costs a retain and a
/// release of its storage (and of the value's box), and making a string
/// from bytes validates them as UTF-8: together most of the time of a
/// `c = s[i]` iteration. A string value's box holds the `String` at byte
/// 16, and a `String` is two words whose layout the standard library
/// fixes (its ABI):
/// - small (up to 15 bytes): the bytes themselves, in memory order, then
///   a discriminator byte: 0xE0 | count when ASCII (immortal, ASCII, small);
/// - large: word 0 is the count (low 48 bits) and flags (bit 63 ASCII,
///   bit 60 tail-allocated), word 1 the storage's address (low 60 bits;
///   the bytes start 32 bytes in) with 0 in bits 60-62 (not small, not
///   foreign or bridged).
/// `StringBits.current` checks all of that once against the standard
/// library's own answers; if any check fails it reads nothing (every
/// caller then takes the general path, as slow as before and as correct),
/// and ValueLayoutTests fails to say so.
struct StringBits {
  /// The tag of `.str`, or `ValueLayout.noTag` (no value has it) when the
  /// checks failed.
  let strTag: UInt

  /// Compiled code copies this when it is made: a global read each time
  /// would be a lazy-initialisation check each time.
  static let current = StringBits(strTag: probe() ?? ValueLayout.noTag)

  /// The bytes and byte count of the string value at `p` when it is ASCII
  /// and its bytes are contiguous (every small ASCII string, and large ones
  /// Swift made natively: decoded, appended, joined, read); nil otherwise.
  /// Valid while the value at `p` is.
  @inline(__always)
  func ascii(_ p: UnsafeRawPointer) -> (bytes: UnsafePointer<UInt8>, count: Int)? {
    guard let (bytes, count, isASCII) = contiguous(p), isASCII else { return nil }
    return (bytes, count)
  }

  /// The same for any string whose bytes are contiguous (small ones, and
  /// large ones Swift made natively), with whether it is all ASCII.
  @inline(__always)
  func contiguous(_ p: UnsafeRawPointer) -> (bytes: UnsafePointer<UInt8>, count: Int, isASCII: Bool)? {
    guard ValueLayout.tag(p) == strTag, let box = UnsafeRawPointer(bitPattern: ValueLayout.payload(p)) else { return nil }
    let w0 = box.load(fromByteOffset: 16, as: UInt64.self)
    let w1 = box.load(fromByteOffset: 24, as: UInt64.self)
    if (w1 >> 61) & 0b101 == 0b101 {
      // Small: immortal and small set, bit 62 says ASCII.
      return ((box + 16).assumingMemoryBound(to: UInt8.self), Int(truncatingIfNeeded: (w1 >> 56) & 0xF), (w1 >> 62) & 1 == 1)
    }
    guard (w0 >> 60) & 1 == 1, (w1 >> 60) & 0b111 == 0,
      let storage = UnsafeRawPointer(bitPattern: UInt(truncatingIfNeeded: w1 & 0x0FFF_FFFF_FFFF_FFFF) &+ 32)
    else { return nil }
    return (storage.assumingMemoryBound(to: UInt8.self), Int(truncatingIfNeeded: w0 & 0xFFFF_FFFF_FFFF), w0 >> 63 == 1)
  }

  /// The `String` inside the string value at `p` when nothing else holds
  /// that value's box: `s += t` on a local appends there, in place, instead
  /// of making a new box for every append.
  @inline(__always)
  func uniqueString(_ p: UnsafeRawPointer) -> UnsafeMutablePointer<String>? {
    guard ValueLayout.tag(p) == strTag, let box = UnsafeMutableRawPointer(bitPattern: ValueLayout.payload(p)),
      mp_is_uniquely_referenced(box) != 0
    else { return nil }
    return (box + 16).assumingMemoryBound(to: String.self)
  }

  /// The string of the `n` (0...15) ASCII bytes at `p`, made in place as a
  /// small string: no validation, no allocation.
  @inline(__always)
  static func smallASCII(_ p: UnsafePointer<UInt8>, _ n: Int) -> String {
    var w0: UInt64 = 0
    var w1: UInt64 = 0
    var i = 0
    while i < n && i < 8 {
      w0 |= UInt64(p[i]) << UInt64(8 * i)
      i += 1
    }
    while i < n {
      w1 |= UInt64(p[i]) << UInt64(8 * (i - 8))
      i += 1
    }
    w1 |= (0xE0 | UInt64(n)) << 56
    return unsafeBitCast((w0, w1), to: String.self)
  }

  /// `x += y` done in place for the common case of a loop building a
  /// string: `x` native, ASCII, its storage held by `x` alone, with room
  /// for the bytes of `y`, a small ASCII string (a character, a short
  /// piece). The bytes go after `x`'s, then its NUL, and the count grows in
  /// both copies of the count-and-flags word (the `String`'s and the
  /// storage's, at byte 24); the flags stay (ASCII appended to ASCII).
  /// False when any condition fails (the caller appends as Swift does,
  /// which also grows the storage), and always when `probe` found the
  /// standard library behaving otherwise. Swift's append was ~300
  /// instructions for one character.
  /// The storage (at the low 60 bits of word 1): byte 16 holds the real
  /// capacity (low 48 bits; the NUL included) and in bit 63 whether a
  /// breadcrumbs pointer (UTF-16 offsets, made for non-ASCII text only)
  /// follows the capacity: it must be empty, as an append would drop it.
  @inline(__always)
  static func appendSmallASCII(_ x: UnsafeMutablePointer<String>, _ y: String) -> Bool {
    guard mp_string_append_in_place != 0 else { return false }
    let xr = UnsafeMutableRawPointer(x)
    let w0 = xr.load(as: UInt64.self), w1 = xr.load(fromByteOffset: 8, as: UInt64.self)
    let (y0, y1) = unsafeBitCast(y, to: (UInt64, UInt64).self)
    // x: ASCII, NFC, native, tail-allocated; a plain object pointer.
    // y: small (immortal, ASCII, small: 0xE).
    guard w0 >> 60 == 0xF, w1 >> 60 == 0, y1 >> 60 == 0xE,
      let storage = UnsafeMutableRawPointer(bitPattern: UInt(w1)),
      storage.load(fromByteOffset: 24, as: UInt64.self) == w0
    else { return false }
    let n = Int(truncatingIfNeeded: (y1 >> 56) & 0xF)
    let count = Int(truncatingIfNeeded: w0 & 0xFFFF_FFFF_FFFF)
    let capacityAndFlags = storage.load(fromByteOffset: 16, as: UInt64.self)
    let capacity = Int(truncatingIfNeeded: capacityAndFlags & 0xFFFF_FFFF_FFFF)
    guard count &+ n < capacity,
      capacityAndFlags >> 63 == 0 || storage.load(fromByteOffset: 32 &+ capacity, as: UInt.self) == 0,
      mp_is_uniquely_referenced(storage) != 0
    else { return false }
    let at = storage + 32 + count
    var i = 0
    while i < n && i < 8 {
      at.storeBytes(of: UInt8(truncatingIfNeeded: y0 >> UInt64(8 * i)), toByteOffset: i, as: UInt8.self)
      i += 1
    }
    while i < n {
      at.storeBytes(of: UInt8(truncatingIfNeeded: y1 >> UInt64(8 * (i - 8))), toByteOffset: i, as: UInt8.self)
      i += 1
    }
    at.storeBytes(of: 0, toByteOffset: n, as: UInt8.self)
    let grown = w0 &+ UInt64(n)
    storage.storeBytes(of: grown, toByteOffset: 24, as: UInt64.self)
    xr.storeBytes(of: grown, as: UInt64.self)
    return true
  }

  /// The string of the `n` (0...15) bytes at `p`, valid UTF-8 (a piece
  /// cut from a string at scalar boundaries), made in place as a small
  /// string: the bytes, then the discriminator byte (0xE0 | n when ASCII,
  /// 0xA0 | n otherwise). Two loads when the 16 bytes from `p` lie in one
  /// page (the bytes past the piece are masked off), else one at a time.
  /// `String._uncheckedFromUTF8` spent ~85 instructions on it.
  @inline(__always)
  static func small(_ p: UnsafePointer<UInt8>, _ n: Int) -> String {
    var w0: UInt64 = 0
    var w1: UInt64 = 0
    if UInt(bitPattern: p) & 4095 <= 4096 - 16 {
      let raw = UnsafeRawPointer(p)
      w0 = raw.loadUnaligned(as: UInt64.self)
      w1 = raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
      if n < 8 {
        w0 &= (1 &<< UInt64(truncatingIfNeeded: 8 * n)) &- 1
        w1 = 0
      } else {
        w1 &= (1 &<< UInt64(truncatingIfNeeded: 8 * (n - 8))) &- 1
      }
    } else {
      var i = 0
      while i < n && i < 8 {
        w0 |= UInt64(p[i]) << UInt64(8 * i)
        i += 1
      }
      while i < n {
        w1 |= UInt64(p[i]) << UInt64(8 * (i - 8))
        i += 1
      }
    }
    let ascii = (w0 | w1) & 0x8080_8080_8080_8080 == 0
    w1 |= ((ascii ? 0xE0 : 0xA0) | UInt64(truncatingIfNeeded: n)) << 56
    return unsafeBitCast((w0, w1), to: String.self)
  }

  /// Checks `appendSmallASCII` against Swift's own appends; switches it on
  /// when they agree.
  static func probeAppend() -> Bool {
    mp_string_append_in_place = 1
    var ok = true
    for start in ["", "ab", String(repeating: "x", count: 15), String(repeating: "abc", count: 30)] {
      var fast = start
      var slow = start
      fast.reserveCapacity(start.utf8.count + 40)
      var tookFastPath = false
      for piece in ["a", "bc", "0123456789abcde", "d", "12345678", "123456789"] {
        slow += piece
        let done = withUnsafeMutablePointer(to: &fast) { appendSmallASCII($0, piece) }
        if !done { fast += piece } else { tookFastPath = true }
        let fastBytes = Array(fast.utf8)
        if fastBytes != Array(slow.utf8) || fast != slow || fast.hashValue != slow.hashValue
          || fast.utf8.count != slow.utf8.count || fast.utf16.count != slow.utf16.count
          || !fast._guts._isContiguousASCII
          || fast.withCString({ strlen($0) }) != slow.utf8.count {
          ok = false
        }
      }
      // Swift appends after ours (growing the storage), and reads through it.
      fast += String(repeating: "z", count: 200)
      slow += String(repeating: "z", count: 200)
      if fast != slow || Array(fast.utf8) != Array(slow.utf8) { ok = false }
      if start.utf8.count > 15 && !tookFastPath { ok = false }
    }
    // A shared storage is left alone.
    var a = String(repeating: "q", count: 20)
    a.reserveCapacity(64)
    let b = a
    if withUnsafeMutablePointer(to: &a, { appendSmallASCII($0, "r") }) || b != String(repeating: "q", count: 20) { ok = false }
    mp_string_append_in_place = ok ? 1 : 0
    return ok
  }

  /// Checks the layout described above against the standard library on
  /// strings of every kind; the tag of `.str`, or nil.
  static func probe() -> UInt? {
    guard MemoryLayout<String>.size == 16, ValueLayout.isAsExpected else { return nil }
    let (_, tag) = ValueLayout.bits(of: .str(""))
    let candidate = StringBits(strTag: tag)
    let large = String(repeating: "ab", count: 20)
    var appended = large
    appended += "cd"
    let cases: [(String, Bool)] = [
      ("", true), ("a", true), ("abcdefgh", true), ("abcdefghijklmno", true),
      (large, true), (appended, true), ("a literal, longer than fifteen bytes", true),
      ("é", false), (String(repeating: "é", count: 20), false), ("a\u{0}b", true),
      ("a literal with an é, longer than fifteen bytes", false),
    ]
    for (s, isASCII) in cases {
      let v = Value.str(s)
      let seen = withUnsafePointer(to: v) { candidate.ascii(UnsafeRawPointer($0)).map { Array(UnsafeBufferPointer(start: $0.bytes, count: $0.count)) } }
      if seen != (isASCII ? Array(s.utf8) : nil) { return nil }
      guard let any = withUnsafePointer(to: v, { candidate.contiguous(UnsafeRawPointer($0)) }),
        Array(UnsafeBufferPointer(start: any.bytes, count: any.count)) == Array(s.utf8), any.isASCII == isASCII
      else { return nil }
    }
    // A box held once is unique, held twice is not; an append through it
    // is seen by the value.
    var one = Value.str(large)
    let unique = withUnsafeMutablePointer(to: &one) { candidate.uniqueString(UnsafeRawPointer($0)) != nil }
    let two = one
    let shared = withUnsafeMutablePointer(to: &one) { candidate.uniqueString(UnsafeRawPointer($0)) != nil }
    guard unique, !shared, case .str(let copy) = two, copy == large else { return nil }
    _ = consume two
    withUnsafeMutablePointer(to: &one) { candidate.uniqueString(UnsafeRawPointer($0))?.pointee += "!" }
    guard case .str(let grown) = one, grown == large + "!" else { return nil }
    // Every length of small string, compared with the one Swift makes.
    let bytes = Array("0123456789abcdef".utf8)
    for n in 0...15 {
      let made = bytes.withUnsafeBufferPointer { smallASCII($0.baseAddress!, n) }
      let real = String(decoding: bytes[0..<n], as: UTF8.self)
      if made != real || made.utf8.count != n || Array(made.utf8) != Array(real.utf8) || made.hashValue != real.hashValue {
        return nil
      }
      if unsafeBitCast(made, to: (UInt64, UInt64).self) != unsafeBitCast(real, to: (UInt64, UInt64).self) { return nil }
    }
    // Small strings of any scalars, as `small` makes them.
    let samples = ["é", "aé", "héllo wörld", "😀", "a😀b", "€uro", "ünïcödé", "0123456789abcde", ""]
    for sample in samples {
      let bytes = Array(sample.utf8)
      for end in 0...bytes.count where end == bytes.count || bytes[end] & 0xC0 != 0x80 {
        let real = String(decoding: bytes[0..<end], as: UTF8.self)
        let made = (bytes + [UInt8](repeating: 0xFF, count: 16)).withUnsafeBufferPointer { small($0.baseAddress!, end) }
        if unsafeBitCast(made, to: (UInt64, UInt64).self) != unsafeBitCast(real, to: (UInt64, UInt64).self) || made != real {
          return nil
        }
      }
    }
    mp_small_strings_in_place = 1
    _ = probeAppend()
    return tag
  }
}

