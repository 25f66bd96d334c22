import XCTest
@testable import MPLanguage

/// Global call sites compare raw bits of a global slot with a cached
/// closure (Values/ValueLayout.swift). If a toolchain changes how `Value`
/// is laid out, they quietly fall back to a path about half as fast: this
/// test makes that loud.
final class ValueLayoutTests: XCTestCase {
  func testValueIsNineBytesWithThePayloadFirstAndTheTagAtByteEight() {
    XCTAssertEqual(MemoryLayout<Value>.size, ValueLayout.size,
                   "Value is no longer 9 bytes: update ValueLayout (and check `indirect case str`)")
    XCTAssertTrue(ValueLayout.isAsExpected,
                  "Value's layout changed: global call sites now take the slow path; update ValueLayout")
  }

  /// `s[i]`, `len(s)`, `s[a:b]` and `s += t` on locals read and grow
  /// strings in place (Values/StringBits.swift); if the standard library
  /// lays strings out otherwise, they quietly take the general path.
  func testStringsAreReadInPlace() {
    XCTAssertNotEqual(StringBits.current.strTag, ValueLayout.noTag,
                      "String's or the string value box's layout changed: update StringBits")
    var v = Value.str("a string longer than fifteen bytes")
    let seen = withUnsafeMutablePointer(to: &v) { p -> String? in
      guard let (bytes, n) = StringBits.current.ascii(UnsafeRawPointer(p)) else { return nil }
      return String(decoding: UnsafeBufferPointer(start: bytes, count: n), as: UTF8.self)
    }
    XCTAssertEqual(seen, "a string longer than fifteen bytes")
    var accented = Value.str("é")
    XCTAssertNil(withUnsafeMutablePointer(to: &accented) { StringBits.current.ascii(UnsafeRawPointer($0)) })
  }

  func testEveryCaseHasATagOtherThanTheEmptyCacheMarker() {
    let b = Builtin("probe", 0, 0, "") { _, _ in .nil }
    let values: [Value] = [.nil, .bool(true), .int(-1), .float(1.5), .str("a long string, not a small one"),
                           .list(ListRef([])), .map(MapRef()), .builtin(b), .object(Cell(.nil))]
    var tags = Set<UInt>()
    for v in values {
      let (_, tag) = ValueLayout.bits(of: v)
      XCTAssertNotEqual(tag, ValueLayout.noTag, "\(v.typeName) has the tag that marks an empty cache")
      tags.insert(tag)
    }
    XCTAssertEqual(tags.count, values.count, "two cases share a tag")
  }

  func testAGlobalSlotReadInPlaceGivesTheStoredBuiltin() {
    let b = Builtin("probe", 0, 0, "") { _, _ in .nil }
    let slot = UnsafeMutablePointer<Value>.allocate(capacity: 1)
    defer {
      slot.deinitialize(count: 1)
      slot.deallocate()
    }
    slot.initialize(to: .builtin(b))
    XCTAssertEqual(ValueLayout.payload(UnsafeRawPointer(slot)), UInt(bitPattern: Unmanaged.passUnretained(b).toOpaque()))
    XCTAssertEqual(ValueLayout.tag(UnsafeRawPointer(slot)), ValueLayout.bits(of: .builtin(b)).1)
  }
}
