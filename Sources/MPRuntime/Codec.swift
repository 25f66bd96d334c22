import MPLanguage

/// The one way values move between processes: a compact binary encoding.
/// Numbers are bit-exact, maps keep their order, shared substructure and
/// cycles survive (each list and map is sent once and referred back to),
/// handles travel as a kind and an arena offset, and functions as code plus
/// a copy of what they captured.
public enum Codec {
  enum Tag: UInt8 {
    case nilValue = 0, falseValue, trueValue, int, float, str, list, map, backref, function, builtin, handle, range
    /// A list of ints only, sent as raw 64-bit words (pools move many).
    case intList
    /// A value that carries counted handles, preceded by their offsets
    /// (`Encoder.countedValue`): a process taking it from a queue can move
    /// those counts into its own record before the item leaves the queue,
    /// without decoding it (SharedHandle.swift, "hand-over").
    case counted
  }

  /// How a runtime object travels: a kind byte and its own payload.
  public protocol Transferable: MPObject {
    static var codecKind: UInt8 { get }
    func encodePayload(_ e: inout Encoder) throws
  }

  /// Decoders for runtime objects, by kind.
  nonisolated(unsafe) static var decoders: [UInt8: (inout Decoder) throws -> Value] = [:]

  public static func register(kind: UInt8, _ decode: @escaping (inout Decoder) throws -> Value) {
    decoders[kind] = decode
  }

  public static func encode(_ v: Value, pinned: Bool = false) throws -> [UInt8] {
    var e = Encoder()
    e.pinned = pinned
    try e.value(v)
    return e.bytes
  }


  /// Decodes the one value that `bytes` holds from offset `start` on.
  public static func decode(_ bytes: [UInt8], from start: Int = 0, countedHandles: Bool = true) throws -> Value {
    var d = Decoder(bytes)
    d.pos = start
    d.countedHandles = countedHandles
    let v = try d.value()
    guard d.pos == bytes.count else { throw MPError(.value, "corrupt message: \(bytes.count - d.pos) bytes left over") }
    return v
  }

  static let maxDepth = 20_000

  public struct Encoder {
    public var bytes: [UInt8] = []
    var seen: [ObjectIdentifier: Int] = [:]
    var nextRef = 0
    var depth = 0
    /// When true the message holds no count on the handles it carries: the
    /// sender keeps them alive until every copy is decoded (a pool call
    /// sends one function to many workers).
    public var pinned = false
    /// The offsets of the handles whose count this message holds, in the
    /// order they were written.
    var counted: [Int] = []
    /// Beside `counted`: the record entry holding each count, 0 for a count
    /// held by the bytes alone (see `countedValue`).
    var countedEntries: [Int] = []
    /// Set while `countedValue` writes a child's queue item.
    var recording = false

    public init() { bytes.reserveCapacity(64) }

    /// Writes `v`, preceded by the list of the handles it counted when
    /// there are any: a value without handles costs nothing more. For a
    /// queue item (a pool's message) only, put with `QueueHandle.putEncoded`:
    /// in a child each count is written in its record as it is taken, so
    /// a producer killed before the item is in the queue gives it back
    /// (ProcessRefs.beginPublish), and a failed encoding gives back what
    /// it took.
    public mutating func countedValue(_ v: Value) throws {
      let start = bytes.count, before = counted.count
      let outer = recording
      recording = ProcessRefs.first != 0
      defer { recording = outer }
      do {
        try value(v)
      } catch {
        SharedHandle.dropCounts(Array(counted[before...]), entries: Array(countedEntries[before...]))
        counted.removeSubrange(before...)
        countedEntries.removeSubrange(before...)
        throw error
      }
      guard counted.count > before else { return }
      var head = Encoder()
      head.byte(Tag.counted.rawValue)
      head.varint(counted.count - before)
      for off in counted[before...] { head.varint(off) }
      bytes.insert(contentsOf: head.bytes, at: start)
    }

    public mutating func byte(_ b: UInt8) { bytes.append(b) }

    public mutating func varint(_ n: Int) {
      var u = UInt64(bitPattern: Int64(n))
      while u >= 0x80 {
        bytes.append(UInt8(u & 0x7f) | 0x80)
        u >>= 7
      }
      bytes.append(UInt8(u))
    }

    public mutating func int64(_ n: Int64) {
      withUnsafeBytes(of: n.littleEndian) { bytes.append(contentsOf: $0) }
    }

    public mutating func string(_ s: String) {
      var s = s
      s.withUTF8 { buf in
        varint(buf.count)
        bytes.append(contentsOf: buf)
      }
    }

    public mutating func value(_ v: Value) throws {
      depth += 1
      defer { depth -= 1 }
      if depth > Codec.maxDepth || (depth & 63 == 0 && (try? checkNativeStack("")) == nil) {
        throw MPError(.value, "value nested too deeply to send to another process (\(depth) levels)")
      }
      switch v {
      case .nil: byte(Tag.nilValue.rawValue)
      case .bool(let b): byte(b ? Tag.trueValue.rawValue : Tag.falseValue.rawValue)
      case .int(let i):
        byte(Tag.int.rawValue)
        int64(Int64(i))
      case .float(let d):
        byte(Tag.float.rawValue)
        int64(Int64(bitPattern: d.bitPattern))
      case .str(let s):
        byte(Tag.str.rawValue)
        string(s)
      case .list(let l):
        if backref(l) { return }
        if l.items.count >= 8, intList(l.items) { return }
        byte(Tag.list.rawValue)
        varint(l.items.count)
        for x in l.items { try value(x) }
      case .map(let m):
        if backref(m) { return }
        byte(Tag.map.rawValue)
        varint(m.count)
        for (i, k) in m.keys.enumerated() {
          try value(k.value)
          try value(m.values[i])
        }
      case .function(let c):
        if backref(c) { return }
        byte(Tag.function.rawValue)
        try function(c)
      case .builtin(let b):
        byte(Tag.builtin.rawValue)
        string(b.name)
      case .object(let o):
        if let r = o as? RangeObject {
          byte(Tag.range.rawValue)
          int64(Int64(r.start))
          int64(Int64(r.stop))
          int64(Int64(r.step))
        } else if let t = o as? any Transferable {
          byte(Tag.handle.rawValue)
          byte(type(of: t).codecKind)
          try t.encodePayload(&self)
        } else {
          throw MPError(.type, "a \(o.typeName) cannot be sent to another process")
        }
      }
    }

    /// Writes `items` as one block of raw ints if they are all ints.
    mutating func intList(_ items: [Value]) -> Bool {
      for v in items {
        guard case .int = v else { return false }
      }
      byte(Tag.intList.rawValue)
      varint(items.count)
      let start = bytes.count
      bytes.append(contentsOf: repeatElement(0, count: 8 * items.count))
      bytes.withUnsafeMutableBytes { raw in
        var p = raw.baseAddress! + start
        for v in items {
          if case .int(let i) = v { p.storeBytes(of: Int64(i).littleEndian, as: Int64.self) }
          p += 8
        }
      }
      return true
    }

    /// Lists and maps are sent once; later occurrences refer back.
    mutating func backref(_ o: AnyObject) -> Bool {
      let id = ObjectIdentifier(o)
      if let r = seen[id] {
        byte(Tag.backref.rawValue)
        varint(r)
        return true
      }
      seen[id] = nextRef
      nextRef += 1
      return false
    }

    /// Code travels as the proto's uid (every process forked after it was
    /// compiled has it) plus its source, so a process without it can
    /// compile it; captured variables travel as copies of their values.
    mutating func function(_ c: Closure) throws {
      let p = c.proto
      varint(p.uid)
      string(p.name)
      string(p.sourceText)
      string(p.module.file)
      varint(p.upvalueNames.count)
      for n in p.upvalueNames { string(n) }
      varint(c.cells.count)
      for cell in c.cells { try value(cell.value) }
    }
  }

  public struct Decoder {
    let bytes: [UInt8]
    public var pos = 0
    var refs: [Value] = []
    var depth = 0
    /// False for messages encoded `pinned`: decoding them releases no count.
    public var countedHandles = true
    /// The handles a `Tag.counted` header listed whose count the decoding
    /// has not used yet (from `carriedAt` on): whatever a failed decode
    /// left is given back, so a corrupt or undecodable item leaks nothing.
    var carried: [Int] = []
    var carriedAt = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    func corrupt() -> MPError { MPError(.value, "corrupt message from another process (at byte \(pos))") }

    public mutating func byte() throws -> UInt8 {
      guard pos < bytes.count else { throw corrupt() }
      defer { pos += 1 }
      return bytes[pos]
    }

    public mutating func varint() throws -> Int {
      var u: UInt64 = 0
      var shift: UInt64 = 0
      while true {
        let b = try byte()
        u |= UInt64(b & 0x7f) << shift
        if b < 0x80 { break }
        shift += 7
        if shift > 63 { throw corrupt() }
      }
      return Int(Int64(bitPattern: u))
    }

    public mutating func int64() throws -> Int64 {
      guard pos + 8 <= bytes.count else { throw corrupt() }
      var v: Int64 = 0
      withUnsafeMutableBytes(of: &v) { dst in
        for i in 0..<8 { dst[i] = bytes[pos + i] }
      }
      pos += 8
      return Int64(littleEndian: v)
    }

    public mutating func string() throws -> String {
      let n = try varint()
      guard n >= 0, pos + n <= bytes.count else { throw corrupt() }
      defer { pos += n }
      return String(decoding: bytes[pos..<(pos + n)], as: UTF8.self)
    }

    public mutating func value() throws -> Value {
      depth += 1
      defer { depth -= 1 }
      if depth > Codec.maxDepth || (depth & 63 == 0 && (try? checkNativeStack("")) == nil) {
        throw MPError(.value, "value nested too deeply to receive (\(depth) levels)")
      }
      guard let tag = Tag(rawValue: try byte()) else { throw corrupt() }
      switch tag {
      case .nilValue: return .nil
      case .falseValue: return .bool(false)
      case .trueValue: return .bool(true)
      case .int: return .int(Int(try int64()))
      case .float: return .float(Double(bitPattern: UInt64(bitPattern: try int64())))
      case .str: return .str(try string())
      case .list:
        let n = try varint()
        guard n >= 0, n <= bytes.count - pos else { throw corrupt() }
        let l = ListRef([])
        l.items.reserveCapacity(n)
        refs.append(.list(l))
        for _ in 0..<n { l.items.append(try value()) }
        return .list(l)
      case .map:
        let n = try varint()
        guard n >= 0, n <= bytes.count - pos else { throw corrupt() }
        let m = MapRef()
        refs.append(.map(m))
        for _ in 0..<n {
          let k = try value()
          guard let key = MapKey(k) else { throw corrupt() }
          m[key] = try value()
        }
        return .map(m)
      case .intList:
        let n = try varint()
        guard n >= 0, n <= (bytes.count - pos) / 8 else { throw corrupt() }
        var items: [Value] = []
        items.reserveCapacity(n)
        bytes.withUnsafeBytes { raw in
          var p = raw.baseAddress! + pos
          for _ in 0..<n {
            items.append(.int(Int(Int64(littleEndian: p.loadUnaligned(as: Int64.self)))))
            p += 8
          }
        }
        pos += 8 * n
        let l = ListRef(items)
        refs.append(.list(l))
        return .list(l)
      case .backref:
        let r = try varint()
        guard r >= 0, r < refs.count else { throw corrupt() }
        return refs[r]
      case .function:
        return try function()
      case .builtin:
        let name = try string()
        guard let b = Interpreter.builtins[name] else {
          throw MPError(.value, "built-in '\(name)' does not exist in this process")
        }
        return .builtin(b)
      case .handle:
        let kind = try byte()
        guard let d = Codec.decoders[kind] else { throw corrupt() }
        return try d(&self)
      case .range:
        let a = Int(try int64()), b = Int(try int64()), c = Int(try int64())
        return .object(RangeObject(a, b, c))
      case .counted:
        let k = try varint()
        guard k >= 0, k <= bytes.count - pos else { throw corrupt() }
        var list: [Int] = []
        list.reserveCapacity(k)
        for _ in 0..<k { list.append(try varint()) }
        guard countedHandles else { return try value() }
        let (outer, outerAt) = (carried, carriedAt)
        (carried, carriedAt) = (list, 0)
        defer {
          for off in carried[carriedAt...] { SharedHandle.dropMessageCount(off) }
          (carried, carriedAt) = (outer, outerAt)
        }
        return try value()
      }
    }

    /// A handle at `off` was decoded: its count in the message is used.
    mutating func usedCount(_ off: Int) {
      guard carriedAt < carried.count else { return }
      if carried[carriedAt] != off {
        guard let i = carried[carriedAt...].firstIndex(of: off) else { return }
        carried.swapAt(i, carriedAt)
      }
      carriedAt += 1
    }

    mutating func function() throws -> Value {
      let uid = try varint()
      let name = try string()
      let source = try string()
      let file = try string()
      let nnames = try varint()
      guard nnames >= 0, nnames <= bytes.count else { throw corrupt() }
      var names: [String] = []
      for _ in 0..<nnames { names.append(try string()) }
      let ncells = try varint()
      guard ncells == nnames, let interp = Interpreter.current else { throw corrupt() }
      // The closure exists before its captured values are decoded, so a
      // function that captured itself (a local recursive helper) refers back.
      let c = try interp.reviveFunction(uid: uid, name: name, source: source, moduleFile: file, upvalueNames: names)
      refs.append(.function(c))
      let slots = c.proto.upvalueNames
      for i in 0..<ncells {
        let v = try value()
        if let j = slots.firstIndex(of: names[i]) { c.cells[j].value = v }
      }
      return .function(c)
    }
  }
}
