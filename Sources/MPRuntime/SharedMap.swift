import CMPShim
import Glibc
import MPLanguage

/// `shared({})`: a map of string, int or bool keys to any values that every
/// process sees and changes, each operation atomic — what Python needs a
/// Manager server process for. `m[k] = m[k] + 1` is a read then a write,
/// racy on purpose; `m.add(k, n)` is the atomic increment.
///
/// The entries are one block of the arena (in insertion order) behind a
/// short-held robust mutex. A change that needs more room writes a new
/// block and then swaps one offset, so a process killed at any instruction
/// leaves either the old map or the new one. Numbers are stored as fixed
/// 8-byte words, so `add` and storing a number over a number change the
/// block in place; other values are encoded with the codec (a handle in
/// the map holds a count on its object, dropped when the entry goes).
/// Every operation scans the entries: shared maps are for the results of
/// a computation, not for millions of keys.
public final class SharedMapHandle: SharedHandle {
  // Payload: mutex (48) at 0, block offset (Int64) at 48.
  static let blockOff = 48
  // Block: one header word (used bytes in bits 0-39, entry count above),
  // capacity in bytes (Int64), then entries: key length (Int32), value
  // length (Int32), key bytes (the codec's), value bytes (tag, then data).
  // A new key is written past the used bytes when it fits, then one store
  // of the header publishes it (blocks have room to spare, so n inserts
  // cost O(n) copies, not O(n^2)); otherwise a bigger block is written and
  // its offset swapped in. Either way one store makes the change.
  static let blockHeader = 16
  static let usedMask: Int64 = (1 << 40) - 1
  static let tagInt: UInt8 = 0, tagFloat: UInt8 = 1, tagCodec: UInt8 = 2
  public override class var kind: UInt8 { 9 }

  init(_ initial: MapRef) throws {
    try super.init(newWithPayload: 64, kind: SharedMapHandle.kind)
    let rc = mp_mutex_init(payload)
    if rc != 0 { throw MPError(.process, "cannot create a shared map: \(String(cString: strerror(rc)))") }
    for (i, k) in initial.keys.enumerated() { try set(k.value, initial.values[i]) }
  }

  override init(existing offset: Int) { super.init(existing: offset) }

  static func registerFinalizer() {
    finalizers[kind] = { payloadOffset in
      let w = Arena.shared.word(payloadOffset + blockOff)
      let block = Int(w.pointee)
      guard block != 0 else { return }
      let values = entries(block).map { [UInt8]($0.value) }
      // Freed and unnamed in one step: a finalizer run again after a death
      // (SharedHandle.finish) finds nothing left, and never gives a value's
      // counts back twice; a death while they are given back below keeps
      // the rest of them (a leak, the lesser harm).
      Arena.shared.free(block, clearing: w)
      for v in values { v.withUnsafeBytes { releaseValue($0) } }
    }
  }

  var blockWord: UnsafeMutablePointer<Int64> { (payload + SharedMapHandle.blockOff).assumingMemoryBound(to: Int64.self) }
  /// The number of entries (read under the mutex: the block may be swapped).
  var count: Int {
    guard (try? SyncWait.lock(payload)) != nil else { return 0 }
    defer { SyncWait.unlock(payload) }
    let block = Int(blockWord.pointee)
    return block == 0 ? 0 : Int(Arena.shared.at(block).load(as: Int64.self) >> 40)
  }

  public override var typeName: String { "shared" }
  public override var repr: String {
    let pairs = (try? snapshot()) ?? []
    let shown = pairs.prefix(10).map { "\($0.0.repr): \($0.1.repr)" }.joined(separator: ", ")
    return "<shared \(number) {\(shown)\(pairs.count > 10 ? ", ... (\(pairs.count) keys)" : "")}>"
  }
  public override var memberNames: [String] {
    ["get", "keys", "values", "items", "contains", "remove", "add", "copy", "clear", "size"]
  }

  // MARK: the block

  struct Entry {
    var start: Int  // offset of the entry in the arena
    var key: UnsafeRawBufferPointer
    var value: UnsafeRawBufferPointer
    var size: Int { 8 + key.count + value.count }
  }

  static func entries(_ block: Int) -> [Entry] {
    guard block != 0 else { return [] }
    let base = Arena.shared.at(block)
    let used = Int(base.load(as: Int64.self) & usedMask)
    var out: [Entry] = []
    var p = blockHeader
    while p < used {
      let kl = Int(base.loadUnaligned(fromByteOffset: p, as: Int32.self))
      let vl = Int(base.loadUnaligned(fromByteOffset: p + 4, as: Int32.self))
      out.append(Entry(start: block + p, key: UnsafeRawBufferPointer(start: base + p + 8, count: kl),
                       value: UnsafeRawBufferPointer(start: base + p + 8 + kl, count: vl)))
      p += 8 + kl + vl
    }
    return out
  }

  /// The entry for `key`, found by scanning the block in place (no array
  /// of every entry is built: the common operations touch one).
  static func lookup(_ block: Int, _ key: [UInt8]) -> Entry? {
    guard block != 0 else { return nil }
    let base = Arena.shared.at(block)
    let used = Int(base.load(as: Int64.self) & usedMask)
    return key.withUnsafeBytes { k -> Entry? in
      var p = blockHeader
      while p < used {
        let kl = Int(base.loadUnaligned(fromByteOffset: p, as: Int32.self))
        let vl = Int(base.loadUnaligned(fromByteOffset: p + 4, as: Int32.self))
        if kl == k.count && memcmp(base + p + 8, k.baseAddress!, kl) == 0 {
          return Entry(start: block + p, key: UnsafeRawBufferPointer(start: base + p + 8, count: kl),
                       value: UnsafeRawBufferPointer(start: base + p + 8 + kl, count: vl))
        }
        p += 8 + kl + vl
      }
      return nil
    }
  }

  static func keyBytes(_ k: Value) throws -> [UInt8] {
    guard let key = MapKey(k) else { throw MPError(.type, "shared map keys must be strings, ints or bools, found \(k.typeName)") }
    return try Codec.encode(key.value)
  }

  static func valueBytes(_ v: Value) throws -> [UInt8] {
    switch v {
    case .int(let i): return [tagInt] + withUnsafeBytes(of: Int64(i)) { Array($0) }
    case .float(let d): return [tagFloat] + withUnsafeBytes(of: d.bitPattern) { Array($0) }
    default: return [tagCodec] + (try Codec.encode(v))
    }
  }

  /// Reads a stored value; the block keeps its counts on handles.
  static func decodeValue(_ b: UnsafeRawBufferPointer) throws -> Value {
    switch b.first {
    case tagInt: return .int(Int(b.loadUnaligned(fromByteOffset: 1, as: Int64.self)))
    case tagFloat: return .float(Double(bitPattern: b.loadUnaligned(fromByteOffset: 1, as: UInt64.self)))
    default: return try Codec.decode(Array(b.dropFirst()), countedHandles: false)
    }
  }

  /// Drops the counts a stored value holds on handles.
  static func releaseValue(_ b: UnsafeRawBufferPointer) {
    guard b.first == tagCodec else { return }
    _ = try? Codec.decode(Array(b.dropFirst()), countedHandles: true)
  }

  func find(_ key: [UInt8], in es: [Entry]) -> Int? {
    es.firstIndex { $0.key.elementsEqual(key) }
  }

  func locked<T>(_ body: () throws -> T) throws -> T {
    try SyncWait.lock(payload)
    defer { SyncWait.unlock(payload) }
    return try body()
  }

  /// Writes a new block from `parts` and swaps it in; frees the old one.
  func rewrite(_ parts: [(key: [UInt8], value: [UInt8])]) throws {
    let used = SharedMapHandle.blockHeader + parts.reduce(0) { $0 + 8 + $1.key.count + $1.value.count }
    let capacity = max(256, used + used / 2)
    let block = try Arena.shared.allocate(capacity)
    let base = Arena.shared.at(block)
    base.storeBytes(of: Int64(used) | (Int64(parts.count) << 40), as: Int64.self)
    base.storeBytes(of: Int64(capacity), toByteOffset: 8, as: Int64.self)
    var p = SharedMapHandle.blockHeader
    for (k, v) in parts {
      base.storeBytes(of: Int32(k.count), toByteOffset: p, as: Int32.self)
      base.storeBytes(of: Int32(v.count), toByteOffset: p + 4, as: Int32.self)
      k.withUnsafeBytes { (base + p + 8).copyMemory(from: $0.baseAddress!, byteCount: k.count) }
      v.withUnsafeBytes { (base + p + 8 + k.count).copyMemory(from: $0.baseAddress!, byteCount: v.count) }
      p += 8 + k.count + v.count
    }
    let old = Int(mp_atomic_load(blockWord))
    mp_atomic_store(blockWord, Int64(block))
    if old != 0 { Arena.shared.free(old) }
  }

  /// Adds a new entry at the end, in place when the block has room.
  func append(_ key: [UInt8], _ value: [UInt8]) throws {
    let block = Int(blockWord.pointee)
    if block != 0 {
      let base = Arena.shared.at(block)
      let header = base.load(as: Int64.self)
      let used = Int(header & SharedMapHandle.usedMask)
      let capacity = Int(base.load(fromByteOffset: 8, as: Int64.self))
      let size = 8 + key.count + value.count
      if used + size <= capacity {
        base.storeBytes(of: Int32(key.count), toByteOffset: used, as: Int32.self)
        base.storeBytes(of: Int32(value.count), toByteOffset: used + 4, as: Int32.self)
        key.withUnsafeBytes { (base + used + 8).copyMemory(from: $0.baseAddress!, byteCount: key.count) }
        value.withUnsafeBytes { (base + used + 8 + key.count).copyMemory(from: $0.baseAddress!, byteCount: value.count) }
        let count = (header >> 40) + 1
        mp_atomic_store(base.assumingMemoryBound(to: Int64.self), Int64(used + size) | (count << 40))
        return
      }
    }
    var ps = parts(SharedMapHandle.entries(block))
    ps.append((key, value))
    try rewrite(ps)
  }

  func parts(_ es: [Entry]) -> [(key: [UInt8], value: [UInt8])] {
    es.map { (Array($0.key), Array($0.value)) }
  }

  // MARK: operations, each under the mutex

  func get(_ k: Value) throws -> Value? {
    let key = try SharedMapHandle.keyBytes(k)
    return try locked {
      guard let e = SharedMapHandle.lookup(Int(blockWord.pointee), key) else { return nil }
      return try SharedMapHandle.decodeValue(e.value)
    }
  }

  func set(_ k: Value, _ v: Value) throws {
    let key = try SharedMapHandle.keyBytes(k)
    let value = try SharedMapHandle.valueBytes(v)
    var written = false
    defer { if !written { SharedMapHandle.releaseBytes(value) } }
    try locked {
      let found = SharedMapHandle.lookup(Int(blockWord.pointee), key)
      if let old = found?.value, old.first == value[0] && value[0] != SharedMapHandle.tagCodec {
        // A number over a number of the same kind: one 8-byte store, in place.
        SharedMapHandle.storeNumber(old, value)
        written = true
        return
      }
      if found == nil {
        try append(key, value)
        written = true
        return
      }
      let es = SharedMapHandle.entries(Int(blockWord.pointee))
      if let i = find(key, in: es) {
        let old = es[i].value
        if old.first == value[0] && value[0] != SharedMapHandle.tagCodec {
          // A number over a number of the same kind: one 8-byte store, in place.
          SharedMapHandle.storeNumber(old, value)
          written = true
          return
        }
        let oldBytes = Array(old)
        var ps = parts(es)
        ps[i].value = value
        try rewrite(ps)
        written = true
        oldBytes.withUnsafeBytes { SharedMapHandle.releaseValue($0) }
      } else {
        try append(key, value)
        written = true
      }
    }
  }

  /// Overwrites a stored number with another of the same kind: the tag
  /// stays, the 8 bytes go in one store, so no process can see (or be
  /// killed leaving) half of each.
  static func storeNumber(_ old: UnsafeRawBufferPointer, _ value: [UInt8]) {
    let bits = value.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 1, as: UInt64.self) }
    UnsafeMutableRawPointer(mutating: old.baseAddress! + 1).storeBytes(of: bits, as: UInt64.self)
  }

  static func releaseBytes(_ b: [UInt8]) { b.withUnsafeBytes { releaseValue($0) } }

  func remove(_ k: Value) throws -> Value? {
    let key = try SharedMapHandle.keyBytes(k)
    return try locked {
      let es = SharedMapHandle.entries(Int(blockWord.pointee))
      guard let i = find(key, in: es) else { return nil }
      let old = Array(es[i].value)
      let v = try old.withUnsafeBytes { try SharedMapHandle.decodeValue($0) }
      var ps = parts(es)
      ps.remove(at: i)
      try rewrite(ps)
      SharedMapHandle.releaseBytes(old)
      return v
    }
  }

  /// Atomic add; a missing key counts as 0. Returns the new value.
  func add(_ k: Value, _ n: Value) throws -> Value {
    switch n {
    case .int, .float: break
    default: throw MPError(.type, "add(k, n) needs a number to add, found \(n.typeName)")
    }
    let key = try SharedMapHandle.keyBytes(k)
    return try locked {
      let found = SharedMapHandle.lookup(Int(blockWord.pointee), key)
      var current: Value = .int(0)
      if let found { current = try SharedMapHandle.decodeValue(found.value) }
      let r: Value
      switch (current, n) {
      case (.int(let a), .int(let b)):
        let (s, o) = a.addingReportingOverflow(b)
        if o { throw MPError(.overflow, "integer overflow in add() (ints are 64-bit)") }
        r = .int(s)
      case (.int(let a), .float(let b)): r = .float(Double(a) + b)
      case (.float(let a), .int(let b)): r = .float(a + Double(b))
      case (.float(let a), .float(let b)): r = .float(a + b)
      default:
        throw MPError(.type, "add(k, n): the value at \(k.repr) is \(current.typeName), not a number")
      }
      let value = try SharedMapHandle.valueBytes(r)
      if let found {
        if found.value.first == value[0] {
          SharedMapHandle.storeNumber(found.value, value)
        } else {
          // An int that became a float: a new block.
          let es = SharedMapHandle.entries(Int(blockWord.pointee))
          guard let i = find(key, in: es) else { return r }
          var ps = parts(es)
          ps[i].value = value
          try rewrite(ps)
        }
      } else {
        try append(key, value)
      }
      return r
    }
  }

  /// Every entry, decoded, in insertion order (one consistent moment).
  func snapshot() throws -> [(Value, Value)] {
    try locked {
      try SharedMapHandle.entries(Int(blockWord.pointee)).map { e in
        (try Codec.decode(Array(e.key), countedHandles: false), try SharedMapHandle.decodeValue(e.value))
      }
    }
  }

  func clear() throws {
    try locked {
      let es = SharedMapHandle.entries(Int(blockWord.pointee))
      let olds = es.map { Array($0.value) }
      try rewrite([])
      for b in olds { SharedMapHandle.releaseBytes(b) }
    }
  }

  // MARK: the language's view

  public override func getItem(_ index: Value) throws -> Value? {
    guard let v = try get(index) else { throw MPError(.key, "key \(index.repr) not found in \(repr)") }
    return v
  }

  public override func setItem(_ index: Value, _ value: Value) throws -> Bool {
    try set(index, value)
    return true
  }

  public override func containsItem(_ x: Value) throws -> Bool? {
    guard MapKey(x) != nil else { return false }
    return try get(x) != nil
  }

  public override func callMethod(_ name: String, _ args: [Value], _ interp: Interpreter) throws -> Value? {
    switch name {
    case "get":
      try methodArity(name, args, 1, 2)
      return try get(args[0]) ?? (args.count > 1 ? args[1] : .nil)
    case "keys":
      try methodArity(name, args, 0, 0)
      return .list(ListRef(try snapshot().map { $0.0 }))
    case "values":
      try methodArity(name, args, 0, 0)
      return .list(ListRef(try snapshot().map { $0.1 }))
    case "items":
      try methodArity(name, args, 0, 0)
      return .list(ListRef(try snapshot().map { .list(ListRef([$0.0, $0.1])) }))
    case "contains":
      try methodArity(name, args, 1, 1)
      return .bool(try containsItem(args[0]) ?? false)
    case "remove":
      try methodArity(name, args, 1, 2)
      if let v = try remove(args[0]) { return v }
      if args.count > 1 { return args[1] }
      throw MPError(.key, "key \(args[0].repr) not found in \(repr)")
    case "add":
      try methodArity(name, args, 1, 2)
      return try add(args[0], args.count > 1 ? args[1] : .int(1))
    case "copy":
      try methodArity(name, args, 0, 0)
      let m = MapRef()
      for (k, v) in try snapshot() { if let key = MapKey(k) { m[key] = v } }
      return .map(m)
    case "clear":
      try methodArity(name, args, 0, 0)
      try clear()
      return .nil
    case "size":
      try methodArity(name, args, 0, 0)
      return .int(count)
    default: return nil
    }
  }

  public override func makeIterator(_ interp: Interpreter) throws -> (() throws -> Value?)? {
    var keys = try snapshot().map { $0.0 }[...]
    return { keys.popFirst() }
  }
}
