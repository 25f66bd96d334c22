/// Bitwise operators on 64-bit ints (grammar.md, "Bitwise operators"):
/// Python's results wherever they fit in 64 bits, an `"overflow"` error
/// where Python's unbounded ints would grow past them.

func bitInts(_ op: String, _ a: Value, _ b: Value, _ loc: SourceLocation) throws -> (Int, Int) {
  guard case .int(let x) = a, case .int(let y) = b else {
    throw MPError(.type, "'\(op)' needs two ints, found \(a.typeName) and \(b.typeName)", at: loc)
  }
  return (x, y)
}

func bitAnd(_ a: Value, _ b: Value, _ loc: SourceLocation) throws -> Value {
  let (x, y) = try bitInts("&", a, b, loc)
  return .int(x & y)
}

func bitOr(_ a: Value, _ b: Value, _ loc: SourceLocation) throws -> Value {
  let (x, y) = try bitInts("|", a, b, loc)
  return .int(x | y)
}

func bitXor(_ a: Value, _ b: Value, _ loc: SourceLocation) throws -> Value {
  let (x, y) = try bitInts("^", a, b, loc)
  return .int(x ^ y)
}

/// `x << n`: an `"overflow"` error when the result needs more than 64 bits.
func shiftLeft(_ a: Value, _ b: Value, _ loc: SourceLocation) throws -> Value {
  let (x, n) = try bitInts("<<", a, b, loc)
  if n < 0 { throw MPError(.value, "negative shift count \(n)", at: loc) }
  if x == 0 { return .int(0) }
  guard n < 64 else { throw shiftOverflow(x, n, loc) }
  let r = x << n
  guard r >> n == x else { throw shiftOverflow(x, n, loc) }
  return .int(r)
}

func shiftOverflow(_ x: Int, _ n: Int, _ loc: SourceLocation) -> MPError {
  MPError(.overflow, "integer overflow in '\(x) << \(n)' (the result does not fit in 64 bits)", at: loc)
}

/// `x >> n` floors, as in Python: past 63 bits it is 0, or -1 for a negative x.
func shiftRight(_ a: Value, _ b: Value, _ loc: SourceLocation) throws -> Value {
  let (x, n) = try bitInts(">>", a, b, loc)
  if n < 0 { throw MPError(.value, "negative shift count \(n)", at: loc) }
  if n >= 64 { return .int(x < 0 ? -1 : 0) }
  return .int(x >> n)
}

func bitNot(_ a: Value, _ loc: SourceLocation) throws -> Value {
  guard case .int(let x) = a else {
    throw MPError(.type, "'~' needs an int, found \(a.typeName)", at: loc)
  }
  return .int(~x)
}
