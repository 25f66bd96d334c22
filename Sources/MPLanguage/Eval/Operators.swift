import CMPShim
import Glibc

/// Arithmetic, comparison and indexing, with Python's rules where grammar.md
/// ("Expressions", "Decisions") does not say otherwise: ints never wrap (overflow is an error), `/` gives
/// a float, `//` and `%` floor.

@inline(__always)
func add(_ a: Value, _ b: Value, _ loc: SourceLocation) throws -> Value {
  switch (a, b) {
  case (.int(let x), .int(let y)):
    let (r, o) = x.addingReportingOverflow(y)
    if o { throw overflow("+", loc) }
    return .int(r)
  case (.float(let x), .float(let y)): return .float(x + y)
  case (.int(let x), .float(let y)): return .float(Double(x) + y)
  case (.float(let x), .int(let y)): return .float(x + Double(y))
  case (.str(let x), .str(let y)): return .str(x + y)
  case (.list(let x), .list(let y)): return .list(ListRef(x.items + y.items))
  default: throw operandError("+", a, b, loc)
  }
}

@inline(__always)
func subtract(_ a: Value, _ b: Value, _ loc: SourceLocation) throws -> Value {
  switch (a, b) {
  case (.int(let x), .int(let y)):
    let (r, o) = x.subtractingReportingOverflow(y)
    if o { throw overflow("-", loc) }
    return .int(r)
  case (.float(let x), .float(let y)): return .float(x - y)
  case (.int(let x), .float(let y)): return .float(Double(x) - y)
  case (.float(let x), .int(let y)): return .float(x - Double(y))
  default: throw operandError("-", a, b, loc)
  }
}

func multiply(_ a: Value, _ b: Value, _ loc: SourceLocation) throws -> Value {
  switch (a, b) {
  case (.int(let x), .int(let y)):
    let (r, o) = x.multipliedReportingOverflow(by: y)
    if o { throw overflow("*", loc) }
    return .int(r)
  case (.float(let x), .float(let y)): return .float(x * y)
  case (.int(let x), .float(let y)): return .float(Double(x) * y)
  case (.float(let x), .int(let y)): return .float(x * Double(y))
  case (.str(let s), .int(let n)), (.int(let n), .str(let s)):
    guard n > 0 else { return .str("") }
    guard s.utf8.count.multipliedReportingOverflow(by: n).overflow == false, s.utf8.count * n <= 1 << 32 else {
      throw MPError(.value, "string repetition too large", at: loc)
    }
    // By doubling: String(repeating:count:) appends one copy at a time.
    var out = s
    out.reserveCapacity(s.utf8.count * n)
    var have = 1
    while have * 2 <= n {
      out += out
      have *= 2
    }
    if have < n { out += String(repeating: s, count: n - have) }
    return .str(out)
  case (.list(let l), .int(let n)), (.int(let n), .list(let l)):
    guard n > 0 else { return .list(ListRef([])) }
    guard l.items.count.multipliedReportingOverflow(by: n).overflow == false, l.items.count * n <= 1 << 28 else {
      throw MPError(.value, "list repetition too large", at: loc)
    }
    var out: [Value] = []
    out.reserveCapacity(l.items.count * n)
    for _ in 0..<n { out.append(contentsOf: l.items) }
    return .list(ListRef(out))
  default: throw operandError("*", a, b, loc)
  }
}

func numbers(_ a: Value, _ b: Value) -> (Double, Double)? {
  switch (a, b) {
  case (.int(let x), .int(let y)): return (Double(x), Double(y))
  case (.float(let x), .float(let y)): return (x, y)
  case (.int(let x), .float(let y)): return (Double(x), y)
  case (.float(let x), .int(let y)): return (x, Double(y))
  default: return nil
  }
}

func divide(_ a: Value, _ b: Value, _ loc: SourceLocation) throws -> Value {
  guard let (x, y) = numbers(a, b) else { throw operandError("/", a, b, loc) }
  if y == 0 { throw MPError(.zero, "division by zero", at: loc) }
  return .float(x / y)
}

func floorDivide(_ a: Value, _ b: Value, _ loc: SourceLocation) throws -> Value {
  if case .int(let x) = a, case .int(let y) = b {
    if y == 0 { throw MPError(.zero, "integer division by zero", at: loc) }
    if x == Int.min && y == -1 { throw overflow("//", loc) }
    var q = x / y
    if (x % y != 0) && ((x < 0) != (y < 0)) { q -= 1 }
    return .int(q)
  }
  guard let (x, y) = numbers(a, b) else { throw operandError("//", a, b, loc) }
  if y == 0 { throw MPError(.zero, "division by zero", at: loc) }
  return .float((x / y).rounded(.down))
}

func modulo(_ a: Value, _ b: Value, _ loc: SourceLocation) throws -> Value {
  if case .int(let x) = a, case .int(let y) = b {
    if y == 0 { throw MPError(.zero, "integer modulo by zero", at: loc) }
    if y == -1 { return .int(0) }
    var r = x % y
    if r != 0 && ((r < 0) != (y < 0)) { r += y }
    return .int(r)
  }
  guard let (x, y) = numbers(a, b) else { throw operandError("%", a, b, loc) }
  if y == 0 { throw MPError(.zero, "modulo by zero", at: loc) }
  var r = fmod(x, y)
  if r != 0 && ((r < 0) != (y < 0)) { r += y }
  return .float(r)
}

func negate(_ a: Value, _ loc: SourceLocation) throws -> Value {
  switch a {
  case .int(let x):
    if x == Int.min { throw overflow("-", loc) }
    return .int(-x)
  case .float(let x): return .float(-x)
  default: throw MPError(.type, "cannot negate a \(a.typeName) (unary '-' needs a number)", at: loc)
  }
}

func binaryOperator(_ op: ArithmeticOperator) -> (Value, Value, SourceLocation) throws -> Value {
  switch op {
  case .add: return add
  case .subtract: return subtract
  case .multiply: return multiply
  case .divide: return divide
  case .floorDivide: return floorDivide
  case .modulo: return modulo
  case .bitAnd: return bitAnd
  case .bitOr: return bitOr
  case .bitXor: return bitXor
  case .shiftLeft: return shiftLeft
  case .shiftRight: return shiftRight
  }
}

// MARK: comparison

/// Structural equality for data, identity for functions and handles;
/// `1 == 1.0`; maps compare without regard to order.
func valuesEqual(_ a: Value, _ b: Value, depth: Int = 0) throws -> Bool {
  switch (a, b) {
  case (.nil, .nil): return true
  case (.bool(let x), .bool(let y)): return x == y
  case (.int(let x), .int(let y)): return x == y
  case (.float(let x), .float(let y)): return x == y
  case (.int(let x), .float(let y)): return Double(x) == y && Double(x) <= 9.2e18 && Int(exactly: y) == x
  case (.float(let x), .int(let y)): return Double(y) == x && Int(exactly: x) == y
  case (.str(let x), .str(let y)): return sameCodePoints(x, y)
  case (.list(let x), .list(let y)):
    if x === y { return true }
    guard x.items.count == y.items.count else { return false }
    try checkDepth(depth, "comparing nested lists")
    for i in 0..<x.items.count where try !valuesEqual(x.items[i], y.items[i], depth: depth + 1) { return false }
    return true
  case (.map(let x), .map(let y)):
    if x === y { return true }
    guard x.count == y.count else { return false }
    try checkDepth(depth, "comparing nested maps")
    for (i, k) in x.keys.enumerated() {
      guard let v = y[k], try valuesEqual(x.values[i], v, depth: depth + 1) else { return false }
    }
    return true
  case (.function(let x), .function(let y)): return x === y
  case (.builtin(let x), .builtin(let y)): return x === y
  case (.object(let x), .object(let y)): return x === y || ((x as? RangeObject)?.same(y) ?? false)
  default: return false
  }
}

/// Recursive operations on data (equality, copying between processes) stop
/// with a "recursion" error before the native stack runs out, as Python
/// raises RecursionError for `a == b` on self-containing lists.
public func checkNativeStack(_ what: String) throws {
  if let i = Interpreter.current, UInt(mp_stack_pointer()) < i.vm.pointee.stackFloor {
    throw MPError(.recursion, "recursion depth exceeded while \(what)")
  }
}

/// Runs `body`, giving errors raised deep inside (nested comparisons) the
/// location of the operator.
@inline(__always)
func located<T>(_ loc: SourceLocation, _ body: () throws -> T) throws -> T {
  do { return try body() } catch let e as MPError { throw e.located(loc) }
}

/// Like Python's recursion limit for `==` on self-containing lists.
@inline(__always)
func checkDepth(_ depth: Int, _ what: String) throws {
  if depth > 5_000 { throw MPError(.recursion, "recursion depth exceeded while \(what)") }
  if depth & 31 == 31 { try checkNativeStack(what) }
}

/// How int `x` compares with float `y` (-1, 0, 1), exactly, as Python
/// does: converting `x` to a float first would round it (2^63 - 1 would
/// equal 2^63). nil when `y` is NaN.
func compareExactly(_ x: Int, _ y: Double) -> Int? {
  if y.isNaN { return nil }
  if y >= 0x1p63 { return -1 }
  if y < -0x1p63 { return 1 }
  // -2^63 <= y < 2^63, so its floor is an Int exactly.
  let f = y.rounded(.down)
  let fi = Int(f)
  if x < fi { return -1 }
  if x > fi { return 1 }
  return f < y ? -1 : 0
}

func lessThan(_ a: Value, _ b: Value, _ op: String, _ loc: SourceLocation, swapped: Bool = false, depth: Int = 0) throws -> Bool {
  switch (a, b) {
  case (.int(let x), .int(let y)): return x < y
  case (.float(let x), .float(let y)): return x < y
  case (.int(let x), .float(let y)): return compareExactly(x, y) == -1
  case (.float(let x), .int(let y)): return compareExactly(y, x) == 1
  case (.str(let x), .str(let y)): return utf8Precedes(x, y)
  case (.list(let x), .list(let y)):
    do {
      try checkDepth(depth, "comparing nested lists")
    } catch let e as MPError { throw e.located(loc) }
    for i in 0..<min(x.items.count, y.items.count) {
      if try located(loc, { try valuesEqual(x.items[i], y.items[i], depth: depth + 1) }) { continue }
      return try lessThan(x.items[i], y.items[i], op, loc, depth: depth + 1)
    }
    return x.items.count < y.items.count
  case (.bool(let x), .bool(let y)): return !x && y
  default:
    let (l, r) = swapped ? (b, a) : (a, b)
    throw MPError(.type, "cannot compare \(l.typeName) and \(r.typeName) with '\(op)'", at: loc)
  }
}

func lessOrEqual(_ a: Value, _ b: Value, _ op: String, _ loc: SourceLocation, swapped: Bool = false) throws -> Bool {
  if case .int(let x) = a, case .int(let y) = b { return x <= y }
  if case .float(let x) = a, case .float(let y) = b { return x <= y }
  // Mixed numbers directly: `!(b < a)` would call 1 <= nan true.
  if case .int(let x) = a, case .float(let y) = b { return (compareExactly(x, y) ?? 1) <= 0 }
  if case .float(let x) = a, case .int(let y) = b { return (compareExactly(y, x) ?? -1) >= 0 }
  return try !lessThan(b, a, op, loc, swapped: !swapped)
}

/// `x in c`: list membership, substring, map key, range membership.
func contains(_ c: Value, _ x: Value, _ loc: SourceLocation) throws -> Bool {
  switch c {
  case .list(let l): return try l.items.contains { try valuesEqual($0, x) }
  case .str(let s):
    guard case .str(let sub) = x else {
      throw MPError(.type, "'in <string>' needs a string on the left, found \(x.typeName)", at: loc)
    }
    return firstOccurrence(s, sub) != nil
  case .map(let m):
    guard let k = MapKey(x) else { return false }
    return m.contains(k)
  case .object(let o):
    if let r = o as? RangeObject, case .int(let i) = x { return r.contains(i) }
    if let r = try o.containsItem(x) { return r }
    throw MPError(.type, "'in' needs a list, string, map or range on the right, found \(o.typeName)", at: loc)
  default:
    throw MPError(.type, "'in' needs a list, string, map or range on the right, found \(c.typeName)", at: loc)
  }
}

// MARK: indexing

/// A Python-style index: negative counts from the end.
func normalizeIndex(_ i: Value, count: Int, what: String, _ loc: SourceLocation) throws -> Int {
  var k: Int
  switch i {
  case .int(let x): k = x
  case .bool, .float, .str, .nil, .list, .map, .function, .builtin, .object:
    throw MPError(.type, "\(what) index must be an int, found \(i.typeName)", at: loc)
  }
  if k < 0 { k += count }
  guard k >= 0 && k < count else {
    if case .int(let x) = i {
      throw MPError(.index, "\(what) index \(x) out of range (length \(count))", at: loc)
    }
    throw MPError(.index, "\(what) index out of range", at: loc)
  }
  return k
}

func indexValue(_ a: Value, _ i: Value, _ loc: SourceLocation) throws -> Value {
  switch a {
  case .list(let l):
    if case .int(let x) = i, x >= 0, x < l.items.count { return l.items[x] }
    return l.items[try normalizeIndex(i, count: l.items.count, what: "list", loc)]
  case .map(let m):
    guard let k = MapKey(i) else {
      throw MPError(.type, "map keys must be strings, ints or bools, found \(i.typeName)", at: loc)
    }
    guard let v = m[k] else {
      throw MPError(.key, "key \(i.repr) not found in map", at: loc)
    }
    return v
  case .str(let s):
    // O(1) on ASCII strings, an index built once on others (Values/Text.swift).
    return try indexString(s, i, loc)
  case .object(let o):
    if let r = o as? RangeObject {
      guard case .int(let k) = i else { throw MPError(.type, "range index must be an int, found \(i.typeName)", at: loc) }
      guard let v = r.item(k) else {
        throw MPError(.index, "range index \(k) out of range (length \(r.exactCount.map(String.init) ?? "over 2^63"))", at: loc)
      }
      return .int(v)
    }
    do {
      if let v = try o.getItem(i) { return v }
    } catch var e as MPError where e.loc == nil {
      e.loc = loc
      throw e
    }
    throw MPError(.type, "cannot index a \(o.typeName)", at: loc)
  default:
    throw MPError(.type, "cannot index a value of type \(a.typeName)", at: loc)
  }
}

func setIndex(_ a: Value, _ i: Value, _ v: Value, _ loc: SourceLocation) throws {
  switch a {
  case .list(let l):
    let k = try normalizeIndex(i, count: l.items.count, what: "list", loc)
    l.items[k] = v
  case .map(let m):
    guard let k = MapKey(i) else {
      throw MPError(.type, "map keys must be strings, ints or bools, found \(i.typeName)", at: loc)
    }
    m[k] = v
  case .str:
    throw MPError(.type, "strings cannot be changed in place; build a new one", at: loc)
  case .object(let o):
    do {
      if try o.setItem(i, v) { return }
    } catch var e as MPError where e.loc == nil {
      e.loc = loc
      throw e
    }
    throw MPError(.type, "cannot assign into a \(o.typeName) with [...]", at: loc)
  default:
    throw MPError(.type, "cannot assign into a value of type \(a.typeName) with [...]", at: loc)
  }
}

// MARK: errors as values

extension Interpreter {
  /// `throw v`: a map with "kind" and "message" (a caught error) is raised
  /// again as that error; anything else is a "user" error carrying `v`.
  static func thrown(_ v: Value, at loc: SourceLocation) -> MPError {
    // A map with a kind mp does not have is a "user" error like any value.
    if case .map(let m) = v, case .str(let name)? = m[.str("kind")], let kind = MPError.Kind(rawValue: name),
      case .str(let msg)? = m[.str("message")]
    {
      var e = MPError(kind, msg, at: loc)
      e.value = m[.str("value")]
      return e
    }
    var e = MPError(.user, v.str, at: loc)
    e.value = v
    return e
  }

  /// The map a `catch e` block sees.
  public static func errorValue(_ e: MPError) -> Value {
    let m = MapRef()
    m[.str("kind")] = .str(e.kind.rawValue)
    m[.str("message")] = .str(e.message)
    if let v = e.value { m[.str("value")] = v }
    if let l = e.loc {
      m[.str("file")] = .str(l.file)
      m[.str("line")] = .int(l.line)
      m[.str("column")] = .int(l.column)
    }
    if !e.trace.isEmpty {
      m[.str("trace")] = .list(ListRef(e.trace.map { .str("\($0.function) (\($0.loc))") }))
    }
    return .map(m)
  }
}
