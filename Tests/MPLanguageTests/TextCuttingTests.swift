import CMPShim
import XCTest
@testable import MPLanguage

/// `lines()`, `split` and `strip` cut long texts with block-at-a-time C
/// scans and make the pieces without validating them again
/// (StringMethods.swift, Text.swift `makeString`): checked here against
/// plain Swift on texts long enough to cross many blocks, with every kind
/// of line break, bytes that only look like one, and non-ASCII text.
final class TextCuttingTests: XCTestCase {
  /// Python's `splitlines()` breaks, and pieces that hold no break but
  /// bytes a scan may stop at (tab, NUL, other controls, C2/E2 lead bytes).
  static let breaks = ["\n", "\r\n", "\r", "\u{0B}", "\u{0C}", "\u{1C}", "\u{1D}", "\u{1E}", "\u{85}", "\u{2028}", "\u{2029}"]
  static let fillers = ["word", "\t", "\u{0}", "\u{1F}", "¢", "€", "…", "é", "x y z", "0123456789abcdef", "😀", "\u{1B}"]

  func referenceLines(_ s: String) -> [String] {
    var out: [String] = []
    var current = ""
    var scalars = Array(s.unicodeScalars)[...]
    while let c = scalars.popFirst() {
      switch c.value {
      case 0x0A, 0x0B, 0x0C, 0x1C, 0x1D, 0x1E, 0x85, 0x2028, 0x2029:
        out.append(current); current = ""
      case 0x0D:
        if scalars.first?.value == 0x0A { scalars.removeFirst() }
        out.append(current); current = ""
      default:
        current.unicodeScalars.append(c)
      }
    }
    if !current.isEmpty { out.append(current) }
    return out
  }

  func text(_ seed: Int, lines: Int) -> String {
    var rng = seed
    func next(_ n: Int) -> Int { rng = rng &* 6364136223846793005 &+ 1442695040888963407; return Int((UInt64(bitPattern: Int64(rng)) >> 33) % UInt64(n)) }
    var s = ""
    for _ in 0..<lines {
      for _ in 0..<next(12) { s += Self.fillers[next(Self.fillers.count)] }
      s += Self.breaks[next(Self.breaks.count)]
    }
    if next(2) == 0 { s += "tail" }
    return s
  }

  func strings(_ vs: [Value]) -> [String] {
    vs.map { v -> String in
      guard case .str(let s) = v else { return "<not a string>" }
      return s
    }
  }

  func testLinesMatchPythonsSplitlinesOnLongMixedText() {
    for seed in 1...40 {
      let s = text(seed, lines: 5 + seed * 13)
      XCTAssertEqual(strings(splitLines(s)), referenceLines(s), "seed \(seed)")
    }
  }

  func testLinesOfAsciiTextWithOnlyNewlines() {
    for width in [0, 1, 15, 16, 17, 63, 64, 65, 200] {
      let pieces = (0..<300).map { i in String(repeating: "abcdefghij", count: 30).prefix((i * 7 + width) % (width + 1)) }.map(String.init)
      let s = pieces.joined(separator: "\n")
      XCTAssertEqual(strings(splitLines(s)), referenceLines(s), "width \(width)")
      XCTAssertEqual(strings(splitLines(s + "\n")), referenceLines(s + "\n"), "width \(width), final break")
    }
  }

  /// Pieces are made without validation, with the ASCII flag given or
  /// found: each must be the same string Swift makes by decoding, with the
  /// same ASCII answer (the flag decides how mp indexes it).
  func testPiecesAreTheStringsDecodingMakes() {
    let texts = [text(7, lines: 400), String(repeating: "lorem ipsum dolor ", count: 500), "é" + String(repeating: "ascii only ", count: 50)]
    for t in texts {
      for piece in strings(splitLines(t)) + strings(splitWhitespace(t)) + strings(splitExactly(t, " ")) {
        let decoded = String(decoding: Array(piece.utf8), as: UTF8.self)
        XCTAssertEqual(piece, decoded)
        XCTAssertEqual(piece.hashValue, decoded.hashValue)
        XCTAssertEqual(piece.isASCIIFast, piece.unicodeScalars.allSatisfy(\.isASCII), piece)
        XCTAssertEqual(piece.scalarCount, piece.unicodeScalars.count, piece)
      }
    }
  }

  func testStripAndSlicesOfLongTexts() {
    let inner = text(3, lines: 200)
    for pad in [" ", " \t\n", "\u{3000}\u{A0} ", ""] {
      let s = pad + "x" + inner + "y" + pad
      XCTAssertEqual(stripSpace(s, leading: true, trailing: true), "x" + inner + "y")
    }
    let t = String(repeating: "héllo wörld ", count: 300)
    let scalars = Array(t.unicodeScalars)
    for (a, b) in [(0, 5), (3, 20), (100, 1500), (7, 3599), (1000, 1001)] {
      var expected = ""
      expected.unicodeScalars.append(contentsOf: scalars[a..<b])
      let got = stringSlice(t, from: a, to: b)
      XCTAssertEqual(got, expected)
      XCTAssertEqual(got.isASCIIFast, expected.unicodeScalars.allSatisfy(\.isASCII))
    }
  }

  /// The scalar index of a non-ASCII string is built 64 bytes at a time
  /// (and extended after appends): every scalar's byte offset must be the
  /// one a walk finds, for strings of 1- to 4-byte scalars of any length.
  func testScalarIndexFindsEveryScalar() {
    let alphabet = ["a", "é", "€", "😀", "z", "ü", " "]
    var rng = 12345
    func next(_ n: Int) -> Int { rng = rng &* 6364136223846793005 &+ 1442695040888963407; return Int((UInt64(bitPattern: Int64(rng)) >> 33) % UInt64(n)) }
    for length in [1, 63, 64, 65, 127, 128, 129, 500, 3000] {
      var s = ""
      for _ in 0..<length { s += alphabet[next(alphabet.count)] }
      let starts = Array(s.utf8.indices.filter { s.utf8[$0] & 0xC0 != 0x80 }.map { s.utf8.distance(from: s.utf8.startIndex, to: $0) })
      s.withBytes { buf in
        // Built whole, and built in random steps as appends do.
        let whole = ScalarIndex(buf)
        let grown = ScalarIndex(UnsafeBufferPointer(rebasing: buf[0..<0]))
        var at = 0
        while at < buf.count {
          at = min(buf.count, at + 1 + next(150))
          while at < buf.count && buf[at] & 0xC0 == 0x80 { at += 1 }
          grown.extend(UnsafeBufferPointer(rebasing: buf[0..<at]))
        }
        for ix in [whole, grown] {
          XCTAssertEqual(ix.count, starts.count, "length \(length)")
          for k in stride(from: starts.count - 1, through: 0, by: -1) {
            XCTAssertEqual(ix.byteOffset(buf.baseAddress!, scalar: k), starts[k], "length \(length), scalar \(k)")
          }
          for k in starts.indices where k % 7 == 0 {
            XCTAssertEqual(ix.scalarOffset(buf.baseAddress!, byte: starts[k]), k)
          }
        }
      }
    }
  }

  /// Both ways of finding the marks (with popcnt and pdep, and without)
  /// agree with a plain walk, from any starting count.
  func testScalarMarksWithAndWithoutBitInstructions() {
    var rng = 99
    func next(_ n: Int) -> Int { rng = rng &* 6364136223846793005 &+ 1442695040888963407; return Int((UInt64(bitPattern: Int64(rng)) >> 33) % UInt64(n)) }
    let alphabet = ["a", "é", "€", "😀", "b"]
    for trial in 0..<60 {
      var s = ""
      for _ in 0..<(trial * 37 + next(200)) { s += alphabet[next(trial % 3 == 0 ? 1 : alphabet.count)] }
      let bytes = Array(s.utf8)
      let from = 0, start = next(200)
      var expected: [Int] = []
      var k = start
      for (i, b) in bytes.enumerated() where b & 0xC0 != 0x80 {
        if k % 64 == 0 { expected.append(i) }
        k += 1
      }
      for f in [mp_scalar_marks, mp_scalar_marks_portable] {
        var count = start
        var out = [Int](repeating: -1, count: bytes.count / 64 + 1)
        let n = bytes.withUnsafeBufferPointer { b in out.withUnsafeMutableBufferPointer { f(b.baseAddress, from, b.count, &count, $0.baseAddress) } }
        XCTAssertEqual(Array(out.prefix(n)), expected, "trial \(trial)")
        XCTAssertEqual(count, k, "trial \(trial)")
      }
    }
  }

  /// `s += c` appends small ASCII strings in place (StringBits
  /// appendSmallASCII) once the start-up check agreed with Swift; if a
  /// toolchain changes strings, that check turns it off: this makes it loud.
  /// Whatever path each append takes, the result is Swift's.
  func testSmallAppendsInPlace() {
    _ = StringBits.current
    XCTAssertEqual(mp_string_append_in_place, 1, "in-place appends are off: String's storage layout changed")
    var rng = 5
    func next(_ n: Int) -> Int { rng = rng &* 6364136223846793005 &+ 1442695040888963407; return Int((UInt64(bitPattern: Int64(rng)) >> 33) % UInt64(n)) }
    // ASCII pieces first (in place while there is room), then any.
    let pieces = ["a", "bc", "0123456789abcde", "xyz", "lorem ipsum dolor sit amet", "é", "😀"]
    var value = Value.str("")
    var expected = ""
    var inPlace = 0
    for round in 0..<3000 {
      let piece = pieces[next(round < 2000 ? 5 : pieces.count)]
      expected += piece
      let done = withUnsafeMutablePointer(to: &value) { p -> Bool in
        guard let x = StringBits.current.uniqueString(UnsafeRawPointer(p)) else { return false }
        let before = x.pointee.utf8.count
        appendString(&x.pointee, piece)
        if x.pointee.utf8.count == before + piece.utf8.count { inPlace += 1 }
        return true
      }
      XCTAssertTrue(done)
      guard case .str(let s) = value else { return XCTFail("not a string") }
      if s.utf8.count != expected.utf8.count { return XCTFail("count \(s.utf8.count) != \(expected.utf8.count)") }
      if round % 97 == 0 { XCTAssertEqual(s, expected) }
    }
    XCTAssertGreaterThan(inPlace, 1000)
    guard case .str(let s) = value else { return XCTFail("not a string") }
    XCTAssertEqual(s, expected)
    XCTAssertEqual(Array(s.utf8), Array(expected.utf8))
    XCTAssertEqual(s.isASCIIFast, expected.unicodeScalars.allSatisfy(\.isASCII))
    XCTAssertEqual(s.scalarCount, expected.unicodeScalars.count)
  }

  /// count(sub) counts non-overlapping occurrences in one C loop: against a
  /// plain count on texts of few letters (many overlaps and near misses).
  func testCountOfSubstringsMatchesAPlainCount() {
    var rng = 7
    func next(_ n: Int) -> Int { rng = rng &* 6364136223846793005 &+ 1442695040888963407; return Int((UInt64(bitPattern: Int64(rng)) >> 33) % UInt64(n)) }
    func plain(_ h: [UInt8], _ n: [UInt8]) -> Int {
      var count = 0, i = 0
      while i + n.count <= h.count {
        if Array(h[i..<i + n.count]) == n { count += 1; i += n.count } else { i += 1 }
      }
      return count
    }
    for trial in 0..<300 {
      let letters = Array("ab".utf8) + (trial % 2 == 0 ? Array("c".utf8) : [])
      let h = (0..<(next(400) + 1)).map { _ in letters[next(letters.count)] }
      let n = (0..<(next(5) + 2)).map { _ in letters[next(letters.count)] }
      let got = h.withUnsafeBufferPointer { hb in n.withUnsafeBufferPointer { nb in mp_count_sub(hb.baseAddress, hb.count, nb.baseAddress, nb.count) } }
      XCTAssertEqual(got, plain(h, n), "trial \(trial)")
    }
    XCTAssertEqual(countOccurrences(String(repeating: "aaa", count: 100), "aa"), 150)
    XCTAssertEqual(countOccurrences(String(repeating: "lorem ipsum ", count: 1000), "lorem"), 1000)
  }

  /// Pieces of up to 15 bytes are made in place (StringBits.small), with
  /// two loads unless the 16 bytes would cross a page: checked against
  /// Swift's own small strings, at the end of a page followed by an
  /// inaccessible one (a load past the page would crash) and in its middle.
  func testSmallPiecesAreSwiftsSmallStrings() {
    _ = StringBits.current
    XCTAssertEqual(mp_small_strings_in_place, 1, "small strings are no longer made in place: layout changed")
    let page = 4096
    guard let mem = mmap(nil, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), mem != MAP_FAILED else {
      return XCTFail("mmap")
    }
    defer { munmap(mem, 2 * page) }
    mprotect(mem + page, page, PROT_NONE)
    let base = mem.assumingMemoryBound(to: UInt8.self)
    for sample in ["héllo wörld!", "0123456789abcde", "😀😀😀", "a€b€c", "ünïcödé ok", "plain ascii"] {
      let bytes = Array(sample.utf8)
      for start in bytes.indices where bytes[start] & 0xC0 != 0x80 {
        for end in (start + 1)...min(bytes.count, start + 15) where end == bytes.count || bytes[end] & 0xC0 != 0x80 {
          let piece = Array(bytes[start..<end])
          let real = String(decoding: piece, as: UTF8.self)
          for at in [page - piece.count, 100] {
            (base + at).update(from: piece, count: piece.count)
            let made = makeString(UnsafePointer(base + at), piece.count)
            XCTAssertEqual(made, real)
            XCTAssertTrue(unsafeBitCast(made, to: (UInt64, UInt64).self) == unsafeBitCast(real, to: (UInt64, UInt64).self), real)
            XCTAssertEqual(made.isASCIIFast, piece.allSatisfy { $0 < 0x80 })
          }
        }
      }
    }
  }
}
