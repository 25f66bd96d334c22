import CMPShim
import Glibc
import MPLanguage

/// `shared([0, 0, 0])`: a fixed-length array of numbers every process sees,
/// like Python's `multiprocessing.Array`. Every element is one 64-bit word
/// in the arena: each read and each write is atomic, `a.add(i, n)` is an
/// atomic fetch-and-add, and `a[i] = a[i] + 1` is racy on purpose. The
/// kind is fixed at creation: all ints, or floats if any item was a float.
public final class SharedArrayHandle: SharedHandle {
  // Payload: kind (Int32: 1 int, 2 float) at 0, count (Int64) at 8, words from 16.
  static let kindOff = 0, countOff = 8, wordsOff = 16
  public override class var kind: UInt8 { 8 }

  init(_ items: [Value]) throws {
    var isFloat = false
    for v in items {
      switch v {
      case .int: break
      case .float: isFloat = true
      default:
        throw MPError(.type, "shared([...]) holds numbers only, found \(v.typeName) (use shared({}) for a map of any values)")
      }
    }
    try super.init(newWithPayload: SharedArrayHandle.wordsOff + 8 * items.count, kind: SharedArrayHandle.kind)
    payload.storeBytes(of: Int32(isFloat ? 2 : 1), as: Int32.self)
    payload.storeBytes(of: Int64(items.count), toByteOffset: SharedArrayHandle.countOff, as: Int64.self)
    for (i, v) in items.enumerated() { try store(i, v) }
  }

  override init(existing offset: Int) { super.init(existing: offset) }

  var isFloat: Bool { payload.load(as: Int32.self) == 2 }
  var count: Int { Int(payload.load(fromByteOffset: SharedArrayHandle.countOff, as: Int64.self)) }
  func word(_ i: Int) -> UnsafeMutablePointer<Int64> {
    (payload + SharedArrayHandle.wordsOff + 8 * i).assumingMemoryBound(to: Int64.self)
  }

  public override var typeName: String { "shared" }
  public override var repr: String {
    let n = count
    let shown = (0..<min(n, 10)).map { load($0).repr }.joined(separator: ", ")
    return "<shared \(number) [\(shown)\(n > 10 ? ", ... (\(n) items)" : "")]>"
  }
  public override var memberNames: [String] { ["add", "copy", "size"] }

  func load(_ i: Int) -> Value {
    let w = mp_atomic_load(word(i))
    return isFloat ? .float(Double(bitPattern: UInt64(bitPattern: w))) : .int(Int(w))
  }

  func index(_ v: Value) throws -> Int {
    guard case .int(var k) = v else { throw MPError(.type, "shared array index must be an int, found \(v.typeName)") }
    let n = count
    if k < 0 { k += n }
    guard k >= 0 && k < n else {
      if case .int(let x) = v { throw MPError(.index, "shared array index \(x) out of range (length \(n))") }
      throw MPError(.index, "shared array index out of range")
    }
    return k
  }

  func store(_ i: Int, _ v: Value) throws {
    switch (isFloat, v) {
    case (false, .int(let x)): mp_atomic_store(word(i), Int64(x))
    case (true, .float(let d)): mp_atomic_store(word(i), Int64(bitPattern: d.bitPattern))
    case (true, .int(let x)): mp_atomic_store(word(i), Int64(bitPattern: Double(x).bitPattern))
    default:
      throw MPError(.type, "this shared array holds \(isFloat ? "floats" : "ints"), cannot store a \(v.typeName)")
    }
  }

  /// Atomic fetch-and-add on element `i`; returns the new value.
  func add(_ i: Int, _ v: Value) throws -> Value {
    let w = word(i)
    switch (isFloat, v) {
    case (false, .int(let d)):
      while true {
        let old = mp_atomic_load(w)
        let (r, o) = Int(old).addingReportingOverflow(d)
        if o { throw MPError(.overflow, "integer overflow in add() (ints are 64-bit)") }
        if mp_atomic_cas(w, old, Int64(r)) != 0 { return .int(r) }
      }
    case (true, .int), (true, .float):
      var d = 0.0
      if case .int(let x) = v { d = Double(x) } else if case .float(let f) = v { d = f }
      while true {
        let old = mp_atomic_load(w)
        let r = Double(bitPattern: UInt64(bitPattern: old)) + d
        if mp_atomic_cas(w, old, Int64(bitPattern: r.bitPattern)) != 0 { return .float(r) }
      }
    default:
      throw MPError(.type, "add(i, n) on a shared array of \(isFloat ? "floats" : "ints") needs a number\(isFloat ? "" : " that is an int"), found \(v.typeName)")
    }
  }

  public func items() -> [Value] { (0..<count).map { load($0) } }

  public override func getItem(_ index: Value) throws -> Value? { load(try self.index(index)) }

  public override func setItem(_ index: Value, _ value: Value) throws -> Bool {
    try store(try self.index(index), value)
    return true
  }

  public override func containsItem(_ x: Value) throws -> Bool? {
    let d: Double
    switch x {
    case .int(let i): d = Double(i)
    case .float(let f): d = f
    default: return false
    }
    return items().contains { v in
      if case .int(let i) = v, case .int(let j) = x { return i == j }
      if case .int(let i) = v { return Double(i) == d }
      if case .float(let f) = v { return f == d }
      return false
    }
  }

  public override func callMethod(_ name: String, _ args: [Value], _ interp: Interpreter) throws -> Value? {
    switch name {
    case "add":
      try methodArity(name, args, 1, 2)
      return try add(try index(args[0]), args.count > 1 ? args[1] : .int(1))
    case "copy":
      try methodArity(name, args, 0, 0)
      return .list(ListRef(items()))
    case "size":
      try methodArity(name, args, 0, 0)
      return .int(count)
    default: return nil
    }
  }

  public override func makeIterator(_ interp: Interpreter) throws -> (() throws -> Value?)? {
    var i = 0
    return { [self] in
      guard i < self.count else { return nil }
      defer { i += 1 }
      return self.load(i)
    }
  }
}
