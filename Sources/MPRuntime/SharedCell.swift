import CMPShim
import Glibc
import MPLanguage

/// `shared(v)`: one int, float, bool or string that every process sees.
/// Each read and each write is atomic; `s.value = s.value + 1` is a read
/// then a write, racy on purpose; `s.add(n)` is an atomic fetch-and-add.
/// The kind is fixed at creation, like Python's typed `Value`; a float cell
/// also accepts ints.
public final class SharedCellHandle: SharedHandle {
  enum Kind: Int32 { case int = 1, float, bool, string }
  // Payload: kind (Int32) at 0, string capacity (Int32) at 4, mutex at 8,
  // number (Int64) at 56, string length (Int32) at 64, bytes from 72.
  static let mutexOff = 8, numberOff = 56, lengthOff = 64, dirtyOff = 68, bytesOff = 72
  static let minStringCapacity = 4096
  public override class var kind: UInt8 { 3 }

  init(_ v: Value) throws {
    let k: Kind
    var capacity = 0
    switch v {
    case .int: k = .int
    case .float: k = .float
    case .bool: k = .bool
    case .str(let s):
      k = .string
      capacity = max(SharedCellHandle.minStringCapacity, s.utf8.count)
    default:
      throw MPError(.type, "shared() holds an int, float, bool or string, found \(v.typeName) (use a queue to pass other values)")
    }
    try super.init(newWithPayload: SharedCellHandle.bytesOff + capacity, kind: SharedCellHandle.kind)
    payload.storeBytes(of: k.rawValue, as: Int32.self)
    payload.storeBytes(of: Int32(capacity), toByteOffset: 4, as: Int32.self)
    try mutex.initialise("a shared cell")
    try store(v)
  }

  override init(existing offset: Int) { super.init(existing: offset) }

  var cellKind: Kind { Kind(rawValue: payload.load(as: Int32.self)) ?? .int }
  var word: UnsafeMutablePointer<Int64> { (payload + SharedCellHandle.numberOff).assumingMemoryBound(to: Int64.self) }

  public override var typeName: String { "shared" }
  public override var repr: String { "<shared \(number) \((try? load())?.repr ?? "?")>" }
  public override var memberNames: [String] { ["value", "add"] }

  func load() throws -> Value {
    switch cellKind {
    case .int: return .int(Int(mp_atomic_load(word)))
    case .float: return .float(Double(bitPattern: UInt64(bitPattern: mp_atomic_load(word))))
    case .bool: return .bool(mp_atomic_load(word) != 0)
    case .string:
      try lockString()
      defer { mutex.unlock() }
      let n = Int(payload.load(fromByteOffset: SharedCellHandle.lengthOff, as: Int32.self))
      let buf = UnsafeRawBufferPointer(start: payload + SharedCellHandle.bytesOff, count: n)
      return .str(String(decoding: buf, as: UTF8.self))
    }
  }

  var mutex: SharedMutex {
    SharedMutex(mutex: payload + SharedCellHandle.mutexOff, dirty: payload + SharedCellHandle.dirtyOff)
  }

  /// A writer that died mid-copy leaves a mix of the old and new string
  /// (never bytes past the length, which is stored last): the cell stays
  /// usable, and the next write makes it whole.
  func lockString() throws {
    _ = try mutex.lock("shared cell \(number)")
  }

  func store(_ v: Value) throws {
    switch (cellKind, v) {
    case (.int, .int(let i)): mp_atomic_store(word, Int64(i))
    case (.float, .float(let d)): mp_atomic_store(word, Int64(bitPattern: d.bitPattern))
    case (.float, .int(let i)): mp_atomic_store(word, Int64(bitPattern: Double(i).bitPattern))
    case (.bool, .bool(let b)): mp_atomic_store(word, b ? 1 : 0)
    case (.string, .str(let s)):
      let cap = Int(payload.load(fromByteOffset: 4, as: Int32.self))
      var s = s
      let n = s.utf8.count
      guard n <= cap else {
        throw MPError(.value, "string of \(n) bytes does not fit in this shared cell (at most \(cap) bytes)")
      }
      try lockString()
      defer { mutex.unlock() }
      s.withUTF8 { buf in
        if let b = buf.baseAddress { (payload + SharedCellHandle.bytesOff).copyMemory(from: b, byteCount: n) }
      }
      payload.storeBytes(of: Int32(n), toByteOffset: SharedCellHandle.lengthOff, as: Int32.self)
    default:
      throw MPError(.type, "this shared cell holds \(kindName), cannot store a \(v.typeName)")
    }
  }

  var kindName: String {
    switch cellKind {
    case .int: return "an int"
    case .float: return "a float"
    case .bool: return "a bool"
    case .string: return "a string"
    }
  }

  /// Atomic fetch-and-add; returns the new value.
  func add(_ v: Value) throws -> Value {
    switch (cellKind, v) {
    case (.int, .int(let d)):
      while true {
        let old = mp_atomic_load(word)
        let (r, o) = Int(old).addingReportingOverflow(d)
        if o { throw MPError(.overflow, "integer overflow in add() (ints are 64-bit)") }
        if mp_atomic_cas(word, old, Int64(r)) != 0 { return .int(r) }
      }
    case (.float, .int), (.float, .float):
      let d: Double
      if case .int(let i) = v { d = Double(i) } else if case .float(let f) = v { d = f } else { d = 0 }
      while true {
        let old = mp_atomic_load(word)
        let r = Double(bitPattern: UInt64(bitPattern: old)) + d
        if mp_atomic_cas(word, old, Int64(bitPattern: r.bitPattern)) != 0 { return .float(r) }
      }
    default:
      throw MPError(.type, "add() needs a number and a number cell; this cell holds \(kindName), got \(v.typeName)")
    }
  }

  public override func member(_ name: String) throws -> Value? {
    name == "value" ? try load() : nil
  }

  public override func setMember(_ name: String, _ value: Value) throws -> Bool {
    guard name == "value" else { return false }
    try store(value)
    return true
  }

  public override func callMethod(_ name: String, _ args: [Value], _ interp: Interpreter) throws -> Value? {
    guard name == "add" else { return nil }
    // `s.add(n=5)` arrives as [nil, 5]: shared arrays and maps name their
    // first parameter (the key), a cell has none.
    var args = args
    if args.count == 2, case .nil = args[0] { args.removeFirst() }
    guard args.count <= 1 else { throw MPError(.type, "add() takes 1 argument, got \(args.count)") }
    return try add(args.first ?? .int(1))
  }
}
