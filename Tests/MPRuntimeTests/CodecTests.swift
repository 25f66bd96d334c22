import XCTest
@testable import MPLanguage
@testable import MPRuntime

/// Round trips through the codec, in-process (no fork).
final class CodecTests: XCTestCase {
  override func setUp() {
    _ = Interpreter(mainFile: "codec.mp")
  }

  func roundTrip(_ v: Value) throws -> Value { try Codec.decode(try Codec.encode(v)) }

  func testScalarsSurviveBitExact() throws {
    for v: Value in [.nil, .bool(true), .bool(false), .int(0), .int(Int.min), .int(Int.max), .float(0.1),
                     .float(-0.0), .float(.infinity), .float(5e-324), .str(""), .str("héllo ✓ \u{0}")] {
      let back = try roundTrip(v)
      XCTAssertEqual(back.repr, v.repr)
    }
    guard case .float(let d) = try roundTrip(.float(-0.0)) else { return XCTFail() }
    XCTAssertEqual(d.sign, .minus)
    guard case .float(let n) = try roundTrip(.float(.nan)) else { return XCTFail() }
    XCTAssertTrue(n.isNaN)
  }

  func testMapsKeepOrderAndKeyKinds() throws {
    let m = MapRef()
    m[.str("z")] = .int(1)
    m[.int(1)] = .str("one")
    m[.bool(true)] = .nil
    XCTAssertEqual(try roundTrip(.map(m)).repr, #"{"z": 1, 1: "one", true: nil}"#)
  }

  func testSharedSubstructureAndCyclesSurvive() throws {
    let inner = ListRef([.int(1)])
    let outer = ListRef([.list(inner), .list(inner)])
    outer.items.append(.list(outer))
    guard case .list(let back) = try roundTrip(.list(outer)),
      case .list(let a) = back.items[0], case .list(let b) = back.items[1], case .list(let c) = back.items[2]
    else { return XCTFail("shape changed") }
    XCTAssertTrue(a === b, "shared sublist became two lists")
    XCTAssertTrue(c === back, "cycle was not kept")
  }

  func testListsOfIntsTravelPackedAndComeBackEqual() throws {
    let items: [Value] = (0..<1000).map { .int($0 * 7 - 3000) } + [.int(Int.min), .int(Int.max)]
    let l = ListRef(items)
    let bytes = try Codec.encode(.list(ListRef([.list(l), .list(l)])))
    XCTAssertLessThan(bytes.count, 8 * items.count + 32, "an int list should cost 8 bytes an item")
    guard case .list(let outer) = try Codec.decode(bytes), case .list(let a) = outer.items[0], case .list(let b) = outer.items[1]
    else { return XCTFail("shape changed") }
    XCTAssertTrue(a === b, "the shared int list became two lists")
    XCTAssertEqual(Value.list(a).repr, Value.list(l).repr)
    // A list with one non-int is sent item by item.
    XCTAssertEqual(try roundTrip(.list(ListRef(items + [.str("x")]))).repr, Value.list(ListRef(items + [.str("x")])).repr)
  }

  func testDeepNestingIsRefusedNotCrashing() throws {
    var v: Value = .nil
    for _ in 0..<50_000 { v = .list(ListRef([v])) }
    XCTAssertThrowsError(try Codec.encode(v)) { e in
      XCTAssertEqual((e as? MPError)?.kind, .value)
    }
  }

  func testCorruptInputIsAnErrorNotACrash() throws {
    var rng = SystemRandomNumberGenerator()
    let good = try Codec.encode(.list(ListRef([.str("abc"), .int(5), .map(MapRef())])))
    for _ in 0..<2000 {
      var bytes = good
      bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
      if Bool.random(using: &rng) { bytes = Array(bytes.prefix(Int.random(in: 0..<bytes.count, using: &rng))) }
      _ = try? Codec.decode(bytes)
    }
    XCTAssertThrowsError(try Codec.decode([99]))
    XCTAssertThrowsError(try Codec.decode([]))
  }

  func testFunctionsTravelAsCodePlusCapturedValues() throws {
    let interp = Interpreter(mainFile: "codec.mp")
    try interp.runEntry("fn make(k) { return fn(x) => x * k }\nlet f = make(7)", file: "codec.mp")
    let f = try XCTUnwrap(interp.main.get("f"))
    let back = try roundTrip(f)
    XCTAssertEqual(try interp.call(back, [.int(6)]).repr, "42")
  }
}
