import CMPShim
import Glibc
import MPLanguage

/// What a child sends its parent when it ends — the one message of the
/// spawn → join protocol (docs/reference.md, "Processes"). The child writes
/// it to its result pipe just before `_exit`; the parent reads the pipe to
/// its end, reaps the child and decodes it. Pool workers use the same error
/// encoding for a failed item.
///
/// Wire form: the length of the rest (8 bytes, little-endian), so the
/// parent knows when it has all of it; then a tag byte, then
///   0 value:  the codec's encoding of the function's return value
///   1 error:  kind, message, location, trace, thrown value (see `encodeError`)
///   2 exit:   the exit code (one byte)
enum ChildOutcome {
  case value(Value)
  case error(MPError)
  case exit(Int32)

  /// The bytes the child writes. A return value that cannot travel becomes
  /// an error saying so; nothing is ever half written.
  func encoded() -> [UInt8] {
    if let (a, b) = twoBytes { return [a, b] }
    switch self {
    case .value(let v):
      var e = Codec.Encoder()
      e.byte(0)
      do {
        try e.value(v)
        return e.bytes
      } catch let err as MPError {
        return ChildOutcome.error(err).encoded()
      } catch {
        return ChildOutcome.error(MPError(.value, "the result cannot be sent back: \(error)")).encoded()
      }
    case .error(let err):
      return [1] + ChildOutcome.encodeError(err)
    case .exit(let c):
      return [2, UInt8(truncatingIfNeeded: c)]
    }
  }

  /// The whole message of the commonest outcomes (nil, a bool, an exit
  /// code), which a child sends from its stack: an Encoder, or even an
  /// array, is code and metadata each fresh child would fault in.
  var twoBytes: (UInt8, UInt8)? {
    switch self {
    case .value(.nil): return (0, Codec.Tag.nilValue.rawValue)
    case .value(.bool(let b)): return (0, (b ? Codec.Tag.trueValue : Codec.Tag.falseValue).rawValue)
    case .exit(let c): return (2, UInt8(truncatingIfNeeded: c))
    default: return nil
    }
  }

  /// Whether `bytes` hold a whole framed message.
  static func isComplete(_ bytes: [UInt8]) -> Bool {
    guard bytes.count >= 8 else { return false }
    let n = bytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
    return UInt64(bytes.count - 8) == n
  }

  /// The exit status a child with this outcome leaves with.
  var exitCode: Int32 {
    switch self {
    case .value: return 0
    case .error: return 1
    case .exit(let c): return c
    }
  }

  /// Reads what a child sent; nil when it sent nothing (it died first).
  static func decode(_ bytes: [UInt8]) throws -> ChildOutcome? {
    guard isComplete(bytes) else { return nil }
    let tag = bytes[8]
    // The two-byte results (twoBytes) without a Decoder.
    if bytes.count == 10 && tag == 0 {
      switch bytes[9] {
      case Codec.Tag.nilValue.rawValue: return .value(.nil)
      case Codec.Tag.trueValue.rawValue: return .value(.bool(true))
      case Codec.Tag.falseValue.rawValue: return .value(.bool(false))
      default: break
      }
    }
    switch tag {
    case 0: return .value(try Codec.decode(bytes, from: 9))
    case 1: return .error(try decodeError(bytes[9...]))
    case 2: return .exit(bytes.count > 9 ? Int32(bytes[9]) : 0)
    default: throw MPError(.value, "unknown result tag \(tag)")
    }
  }

  /// An error as bytes. The thrown value is encoded on its own first: a
  /// value that cannot travel (a function bound to a string, a lock from a
  /// closed program) arrives as its repr instead of damaging the rest.
  static func encodeError(_ e: MPError) -> [UInt8] {
    var enc = Codec.Encoder()
    enc.string(e.kind.rawValue)
    enc.string(e.message)
    if let l = e.loc {
      enc.byte(1)
      enc.string(l.file)
      enc.varint(l.line)
      enc.varint(l.column)
    } else {
      enc.byte(0)
    }
    enc.varint(e.trace.count)
    for t in e.trace {
      enc.string(t.function)
      enc.string(t.loc.file)
      enc.varint(t.loc.line)
      enc.varint(t.loc.column)
    }
    var value = Codec.Encoder()
    if let v = e.value {
      do {
        try value.value(v)
      } catch {
        value = Codec.Encoder()
        try? value.value(.str(v.repr))
      }
    } else {
      try? value.value(.nil)
    }
    enc.bytes += value.bytes
    return enc.bytes
  }

  static func decodeError(_ bytes: ArraySlice<UInt8>) throws -> MPError {
    var d = Codec.Decoder(Array(bytes))
    let kind = try d.string(), message = try d.string()
    var e = MPError(MPError.Kind(rawValue: kind) ?? .process, message)
    if try d.byte() == 1 {
      e.loc = SourceLocation(file: try d.string(), line: try d.varint(), column: try d.varint())
    }
    let n = try d.varint()
    for _ in 0..<max(0, min(n, 10_000)) {
      let fn = try d.string()
      e.addTrace(.init(function: fn, loc: SourceLocation(file: try d.string(), line: try d.varint(), column: try d.varint())))
    }
    let v = try d.value()
    if case .nil = v {} else { e.value = v }
    return e
  }
}
