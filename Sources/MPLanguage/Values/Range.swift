/// `range(start, stop, step)`: lazy, so `for i in range(10_000_000)` allocates nothing.
public final class RangeObject: MPObject {
  public let start: Int, stop: Int, step: Int
  public init(_ start: Int, _ stop: Int, _ step: Int) {
    self.start = start
    self.stop = stop
    self.step = step
  }
  /// The number of items; nil when it does not fit in an int (128-bit math).
  public var exactCount: Int? { Int(exactly: count128) }
  var count128: Int128 {
    let a = Int128(start), b = Int128(stop), s = Int128(step)
    if s > 0 { return a < b ? (b - a - 1) / s + 1 : 0 }
    return a > b ? (a - b - 1) / (-s) + 1 : 0
  }
  public var count: Int { exactCount ?? Int.max }
  public func contains(_ i: Int) -> Bool {
    if step > 0 ? (i < start || i >= stop) : (i > start || i <= stop) { return false }
    return (Int128(i) - Int128(start)) % Int128(step) == 0
  }
  /// `t` plus the sum of the items, or nil if that does not fit in an int.
  public func sum(plus t: Int) -> Int? {
    let n = count128
    if n == 0 { return t }
    let first = Int128(start), last = first + (n - 1) * Int128(step)
    // n * (first + last) / 2, halving whichever factor is even.
    let (half, other) = n % 2 == 0 ? (n / 2, first + last) : (n, (first + last) / 2)
    let (p, o) = half.multipliedReportingOverflow(by: other)
    if o { return nil }
    return Int(exactly: p + Int128(t))
  }

  /// The k-th item; negative k counts from the end; nil when out of range.
  public func item(_ k: Int) -> Int? {
    let n = count128
    var kk = Int128(k)
    if kk < 0 { kk += n }
    guard kk >= 0, kk < n else { return nil }
    return Int(truncatingIfNeeded: Int128(start) + kk * Int128(step))
  }
  func same(_ o: MPObject) -> Bool {
    guard let r = o as? RangeObject else { return false }
    return r.start == start && r.stop == stop && r.step == step
  }
  public func items() throws -> [Value] {
    guard let n = exactCount, n <= 1 << 28 else {
      throw MPError(.value, "range of \(exactCount.map(String.init) ?? "more than 2^63") items is too long to make into a list")
    }
    var out: [Value] = []
    out.reserveCapacity(n)
    var i = start
    for _ in 0..<count {
      out.append(.int(i))
      i &+= step
    }
    return out
  }
  public override var typeName: String { "range" }
  public override var repr: String {
    step == 1 ? "range(\(start), \(stop))" : "range(\(start), \(stop), \(step))"
  }
}
