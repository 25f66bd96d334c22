/// The one place that knows how a `Value` lies in memory.
///
/// Global call sites (Compile/GlobalCallSite.swift) decide whether a global
/// still holds the closure they cached by comparing the slot's raw bits,
/// without copying the value out (a copy would retain and release it on
/// every call). That needs `Value` to be 9 bytes: the payload word at byte
/// 0 (for `.function` and `.builtin`, the object's address) and the case
/// tag at byte 8. `indirect case str` keeps it so: a Swift `String` is 16
/// bytes and would make every value 17; boxed, its payload is one pointer
/// like the other references'. If a toolchain lays `Value` out otherwise,
/// `isAsExpected` is false, call sites take the general path (correct,
/// about half as fast), and ValueLayoutTests fails to say so.
enum ValueLayout {
  static let size = 9
  static let tagOffset = 8
  /// A tag no value has: an empty cache never matches a slot.
  static let noTag: UInt = 0xFF

  /// Checked once: the size, and that a function's and a built-in's
  /// payload word is the object's address under distinct real tags.
  static let isAsExpected: Bool = {
    guard MemoryLayout<Value>.size == size else { return false }
    let b = Builtin("layout probe", 0, 0, "") { _, _ in .nil }
    let address = UInt(bitPattern: Unmanaged.passUnretained(b).toOpaque())
    // Any class reference will do to read where `.function` puts its
    // payload: the probe is only copied, never called.
    let (fBits, fTag) = bits(of: .function(unsafeBitCast(b, to: Closure.self)))
    let (bBits, bTag) = bits(of: .builtin(b))
    let (iBits, iTag) = bits(of: .int(-42))
    return fBits == address && bBits == address
      && fTag != noTag && bTag != noTag && fTag != bTag
      && iBits == UInt(bitPattern: -42) && iTag == intTag
  }()

  /// The tags of `.function` and `.builtin` (meaningful when `isAsExpected`).
  static let functionTag: UInt = {
    let b = Builtin("layout probe", 0, 0, "") { _, _ in .nil }
    return bits(of: .function(unsafeBitCast(b, to: Closure.self))).1
  }()
  static let builtinTag: UInt = {
    let b = Builtin("layout probe", 0, 0, "") { _, _ in .nil }
    return bits(of: .builtin(b)).1
  }()

  /// The tag of `.int`: bytecode writes an int into uninitialised memory
  /// (a new frame's argument) as its two words.
  static let intTag: UInt = bits(of: .int(0)).1

  /// Initialises `p` to `.int(i)` given `tag`, `intTag` read once by the caller.
  @inline(__always)
  static func initializeInt(_ p: UnsafeMutablePointer<Value>, _ i: Int, tag: UInt) {
    let raw = UnsafeMutableRawPointer(p)
    raw.storeBytes(of: i, as: Int.self)
    raw.storeBytes(of: UInt8(truncatingIfNeeded: tag), toByteOffset: tagOffset, as: UInt8.self)
  }

  /// The payload word of the value stored at `p`.
  @inline(__always)
  static func payload(_ p: UnsafeRawPointer) -> UInt { p.load(as: UInt.self) }

  /// The case tag of the value stored at `p`.
  @inline(__always)
  static func tag(_ p: UnsafeRawPointer) -> UInt { UInt(p.load(fromByteOffset: tagOffset, as: UInt8.self)) }

  /// Payload word and tag of `v`.
  static func bits(of v: Value) -> (UInt, UInt) {
    var probe = v
    return withUnsafeBytes(of: &probe) { raw in
      guard let p = raw.baseAddress, raw.count > tagOffset else { return (0, noTag) }
      return (payload(p), tag(p))
    }
  }
}
