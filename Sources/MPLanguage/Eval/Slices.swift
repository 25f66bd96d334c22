/// Slices `xs[a:b]` and `xs[a:b:step]` on lists and strings, with
/// Python's rules for negative, missing and out-of-range bounds
/// (grammar.md, "Slices").

/// The positions a slice takes from a sequence of `count` items: Python's
/// `slice.indices`. Returns the first position, the step and how many.
func sliceIndices(count: Int, _ lo: Value, _ hi: Value, _ st: Value, _ loc: SourceLocation) throws -> (start: Int, step: Int, length: Int) {
  var step = 1
  switch st {
  case .nil: break
  case .int(let s):
    if s == 0 { throw MPError(.value, "slice step cannot be zero", at: loc) }
    // -2^63 as a step would overflow the arithmetic below; any step past
    // the count takes one item anyway.
    step = max(s, -Int.max)
  default: throw MPError(.type, "slice step must be an int, found \(st.typeName)", at: loc)
  }
  func bound(_ v: Value, _ what: String, _ missing: Int) throws -> Int {
    switch v {
    case .nil: return missing
    case .int(let i):
      if i < 0 {
        let j = i < -count ? -1 : i + count
        return step < 0 ? max(j, -1) : max(j, 0)
      }
      return step < 0 ? min(i, count - 1) : min(i, count)
    default: throw MPError(.type, "slice \(what) must be an int, found \(v.typeName)", at: loc)
    }
  }
  let start = try bound(lo, "start", step < 0 ? count - 1 : 0)
  let stop = try bound(hi, "end", step < 0 ? -1 : count)
  var length = 0
  if step > 0, start < stop {
    length = (stop - start - 1) / step + 1
  } else if step < 0, start > stop {
    length = (start - stop - 1) / (-step) + 1
  }
  return (start, step, length)
}

func sliceValue(_ a: Value, _ lo: Value, _ hi: Value, _ st: Value, _ loc: SourceLocation) throws -> Value {
  switch a {
  case .list(let l):
    let (start, step, n) = try sliceIndices(count: l.items.count, lo, hi, st, loc)
    if step == 1 { return .list(ListRef(Array(l.items[start..<start + n]))) }
    var out: [Value] = []
    out.reserveCapacity(n)
    var i = start
    for _ in 0..<n {
      out.append(l.items[i])
      i &+= step  // past the last item it is never read
    }
    return .list(ListRef(out))
  case .str(let s):
    let (start, step, n) = try sliceIndices(count: s.scalarCount, lo, hi, st, loc)
    return .str(stringSlice(s, start: start, step: step, count: n))
  default:
    throw MPError(.type, "cannot slice a value of type \(a.typeName) (slices work on lists and strings)", at: loc)
  }
}
