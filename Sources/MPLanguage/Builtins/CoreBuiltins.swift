import CMPShim
import Glibc

/// `exit(code)` unwinds the whole program; it is not an mp error, so
/// `try/catch` does not stop it.
public struct ExitRequest: Error {
  public let code: Int32
}

extension Interpreter {
  nonisolated(unsafe) static var coreRegistered = false

  /// Adds (or replaces) a built-in every new module will see.
  public static func register(_ b: Builtin) { builtins[b.name] = b }

  static func registerCoreBuiltins() {
    guard !coreRegistered else { return }
    coreRegistered = true
    func reg(_ name: String, _ lo: Int, _ hi: Int, _ doc: String, _ fn: @escaping ([Value], Interpreter) throws -> Value) {
      if builtins[name] == nil { register(Builtin(name, lo, hi, doc, fn)) }
    }
    /// A built-in of exactly one argument: the array form calls the one-argument form.
    func reg1(_ name: String, _ doc: String, _ one: @escaping (Value, Interpreter) throws -> Value) {
      reg(name, 1, 1, doc) { a, i in try one(a[0], i) }
      builtins[name]?.fn1 = one
    }
    reg("print", 0, -1, "print(a, b, ...): write the values' str forms, joined by spaces, as one line") { args, _ in
      var line = ""
      for (i, a) in args.enumerated() {
        if i > 0 { line += " " }
        line += a.str
      }
      line += "\n"
      writeAll(1, line)
      return .nil
    }
    reg("str", 0, 1, "str(x): x as text (strings stay as they are)") { a, _ in .str(a.first?.str ?? "") }
    builtins["str"]?.fn1 = { x, _ in .str(x.str) }
    reg1("repr", "repr(x): x as mp would write it (strings quoted)") { x, _ in .str(x.repr) }
    reg1("type", "type(x): the name of x's type, e.g. \"int\", \"list\", \"queue\"") { x, _ in .str(x.typeName) }
    reg("int", 0, 2, "int(x[, base]): convert a float (truncating), bool or string to an int") { a, _ in
      guard let x = a.first else { return .int(0) }
      return try toInt(x, base: a.count > 1 ? a[1] : nil)
    }
    builtins["int"]?.fn1 = { x, _ in try toInt(x, base: nil) }
    reg("float", 0, 1, "float(x): convert an int or string to a float") { a, _ in
      guard let x = a.first else { return .float(0) }
      return try toFloat(x)
    }
    builtins["float"]?.fn1 = { x, _ in try toFloat(x) }
    reg("bool", 0, 1, "bool(x): whether x is truthy") { a, _ in .bool(a.first?.isTruthy ?? false) }
    builtins["bool"]?.fn1 = { x, _ in .bool(x.isTruthy) }
    reg1("len", "len(x): number of items in a list, map, range, or characters in a string") { x, _ in
      switch x {
      case .list(let l): return .int(l.items.count)
      case .str(let s): return .int(s.scalarCount)
      case .map(let m): return .int(m.count)
      case .object(let o):
        if let r = o as? RangeObject {
          guard let n = r.exactCount else { throw MPError(.overflow, "len() of a range longer than the largest int") }
          return .int(n)
        }
        if let n = try o.callMethod("size", [], Interpreter.current!) { return n }
        throw MPError(.type, "len() of a \(o.typeName) is not defined")
      default: throw MPError(.type, "len() needs a list, string, map or range, found \(x.typeName)")
      }
    }
    builtins["len"]?.isLen = true
    reg("range", 1, 3, "range(stop) / range(start, stop[, step]): the ints from start up to (not including) stop") { a, _ in
      var ints: [Int] = []
      for v in a {
        guard case .int(let i) = v else { throw MPError(.type, "range() needs ints, found \(v.typeName)") }
        ints.append(i)
      }
      let (start, stop, step) = ints.count == 1 ? (0, ints[0], 1) : (ints[0], ints[1], ints.count > 2 ? ints[2] : 1)
      if step == 0 { throw MPError(.value, "range() step must not be zero") }
      return .object(RangeObject(start, stop, step))
    }
    reg("list", 0, 1, "list(x): a new list of the items of x (a list, string, map's keys, range, queue)") { a, i in
      .list(ListRef(a.isEmpty ? [] : try i.iterate(a[0])))
    }
    reg1("abs", "abs(x): absolute value") { x, _ in
      switch x {
      case .int(let i):
        if i == Int.min { throw MPError(.overflow, "integer overflow in abs()") }
        return .int(Swift.abs(i))
      case .float(let d): return .float(Swift.abs(d))
      default: throw MPError(.type, "abs() needs a number, found \(x.typeName)")
      }
    }
    reg("sum", 1, 2, "sum(items[, start]): add the items up") { a, i in
      var total = a.count > 1 ? a[1] : .int(0)
      // A range adds up in closed form: sum(range(10**9)) needs no list.
      if case .object(let o) = a[0], let r = o as? RangeObject, case .int(let t) = total {
        if let v = r.sum(plus: t) { return .int(v) }
        throw MPError(.overflow, "integer overflow in sum() (the result does not fit in 64 bits)")
      }
      for x in try i.iterate(a[0]) { total = try add(total, x, noLoc) }
      return total
    }
    reg("round", 1, 2, "round(x[, digits]): nearest int (ties to even), or a float with that many digits") { a, _ in
      let d: Double
      switch a[0] {
      case .int(let i): if a.count == 1 { return .int(i) }; d = Double(i)
      case .float(let f): d = f
      default: throw MPError(.type, "round() needs a number, found \(a[0].typeName)")
      }
      if a.count > 1 {
        guard case .int(let n) = a[1] else { throw MPError(.type, "round() digits must be an int") }
        if n < 0 {
          // round(1234, -2) is 1200: round to tens, hundreds, ... (ties to even)
          let scale = Double.pow10(min(-n, 400))
          let r = (d / scale).rounded(.toNearestOrEven) * scale
          if case .int = a[0] {
            guard let i = Int(exactly: r) else { return .int(0) }
            return .int(i)
          }
          return .float(r.isFinite ? r : 0)
        }
        if case .int = a[0] { return a[0] }
        let text = FormatSpec.cFormat(d, precision: min(n, 100), conv: "f")
        return .float(Double(text) ?? d)
      }
      let r = d.rounded(.toNearestOrEven)
      guard let i = Int(exactly: r) else { throw MPError(.overflow, "round() of \(formatFloat(d)) does not fit in an int") }
      return .int(i)
    }
    reg("reversed", 1, 1, "reversed(items): a new list in reverse order") { a, i in .list(ListRef(try i.iterate(a[0]).reversed())) }
    reg("enumerate", 1, 2, "enumerate(items[, start]): [[0, a], [1, b], ...]") { a, i in
      var n = 0
      if a.count > 1 {
        guard case .int(let s) = a[1] else { throw MPError(.type, "enumerate() start must be an int") }
        n = s
      }
      var out: [Value] = []
      let items = try i.iterate(a[0])
      for (k, x) in items.enumerated() {
        out.append(.list(ListRef([.int(n), x])))
        if k == items.count - 1 { break }
        let (next, o) = n.addingReportingOverflow(1)
        if o { throw MPError(.overflow, "enumerate() counted past the largest int") }
        n = next
      }
      return .list(ListRef(out))
    }
    reg("zip", 1, -1, "zip(a, b, ...): [[a0, b0], [a1, b1], ...] up to the shortest") { a, i in
      let lists = try a.map { try i.iterate($0) }
      let n = lists.map(\.count).min() ?? 0
      return .list(ListRef((0..<n).map { k in .list(ListRef(lists.map { $0[k] })) }))
    }
    reg("keys", 1, 1, "keys(m): a map's keys in insertion order") { a, _ in
      guard case .map(let m) = a[0] else { throw MPError(.type, "keys() needs a map, found \(a[0].typeName)") }
      return .list(ListRef(m.keys.map { $0.value }))
    }
    reg("values", 1, 1, "values(m): a map's values in insertion order") { a, _ in
      guard case .map(let m) = a[0] else { throw MPError(.type, "values() needs a map, found \(a[0].typeName)") }
      return .list(ListRef(m.values))
    }
    reg("contains", 2, 2, "contains(collection, x): x in a list, a key of a map, a substring") { a, _ in
      .bool(try MPLanguage.contains(a[0], a[1], noLoc))
    }
    reg("assert", 1, 2, "assert(cond[, message]): raise an \"assert\" error if cond is falsy") { a, _ in
      if !a[0].isTruthy {
        throw MPError(.assert, a.count > 1 ? "assertion failed: \(a[1].str)" : "assertion failed")
      }
      return .nil
    }
    reg("random", 0, 0, "random(): a float in [0, 1)") { _, _ in .float(Random.shared.nextDouble()) }
    reg("randint", 2, 2, "randint(a, b): an int between a and b, both included") { a, _ in
      guard case .int(let lo) = a[0], case .int(let hi) = a[1] else { throw MPError(.type, "randint() needs two ints") }
      guard lo <= hi else { throw MPError(.value, "randint(\(lo), \(hi)): empty range") }
      let span = UInt64(bitPattern: Int64(hi &- lo)) &+ 1
      let r = span == 0 ? Random.shared.next() : Random.shared.next() % span
      return .int(lo &+ Int(truncatingIfNeeded: r))
    }
    reg("seed", 1, 1, "seed(n): make random() and randint() repeatable") { a, _ in
      guard case .int(let n) = a[0] else { throw MPError(.type, "seed() needs an int") }
      Random.shared.seedProgram(UInt64(bitPattern: Int64(n)))
      return .nil
    }
    reg("exit", 0, 1, "exit([code]): end the program (in a child: end that process)") { a, _ in
      var code: Int32 = 0
      if let c = a.first {
        guard case .int(let i) = c else { throw MPError(.type, "exit() needs an int code, found \(c.typeName)") }
        // An exit status is one byte: 256 would read as 0 (success) and
        // -1 as 255, so a code out of range is an error, not a wrap.
        guard (0...255).contains(i) else { throw MPError(.value, "exit() code must be from 0 to 255, found \(i)") }
        code = Int32(i)
      }
      throw ExitRequest(code: code)
    }
    reg("pow", 2, 2, "pow(a, b): a to the power b (an int for int arguments and b >= 0)") { a, _ in
      switch (a[0], a[1]) {
      case (.int(let x), .int(let y)) where y >= 0:
        var r = 1, base = x, e = y
        while e > 0 {
          if e & 1 == 1 {
            let (m, o) = r.multipliedReportingOverflow(by: base)
            if o { throw MPError(.overflow, "integer overflow in pow() (ints are 64-bit; use floats)") }
            r = m
          }
          e >>= 1
          if e > 0 {
            let (b2, o) = base.multipliedReportingOverflow(by: base)
            if o { throw MPError(.overflow, "integer overflow in pow() (ints are 64-bit; use floats)") }
            base = b2
          }
        }
        return .int(r)
      default:
        guard let (x, y) = numbers(a[0], a[1]) else {
          throw MPError(.type, "pow() needs numbers, found \(a[0].typeName) and \(a[1].typeName)")
        }
        if x == 0 && y < 0 { throw MPError(.zero, "zero to a negative power") }
        return .float(Glibc.pow(x, y))
      }
    }
    reg("now", 0, 0, "now(): monotonic seconds as a float, for timing (like time.perf_counter)") { _, _ in .float(Timing.now()) }
    registerFunctionalBuiltins()
    reg("sleep", 1, 1, "sleep(seconds): pause this process (Ctrl-C interrupts)") { a, _ in
      let secs: Double
      switch a[0] {
      case .int(let i): secs = Double(i)
      case .float(let d): secs = d
      default: throw MPError(.type, "sleep() needs a number of seconds, found \(a[0].typeName)")
      }
      guard secs >= 0, secs.isFinite else { throw MPError(.value, "sleep() needs a non-negative number of seconds") }
      try interruptibleSleep(secs)
      return .nil
    }
  }

  /// A stable sort; `key(x)` gives the sort key (nil: none); `reverse`
  /// sorts in descending order and keeps equal items in their order, as Python does.
  func sortValues(_ items: [Value], key: Value?, reverse: Bool = false) throws -> [Value] {
    var key = key
    if case .nil? = key { key = nil }
    if reverse {
      // Reversing, sorting stably and reversing again keeps equal items in order.
      return try sortValues(items.reversed(), key: key).reversed()
    }
    // Lists of plain ints or of strings sort as native arrays: no generic
    // comparison, no value copies per compare. (Both sorts are stable.)
    if key == nil {
      var ints: [Int] = []
      ints.reserveCapacity(items.count)
      for v in items {
        guard case .int(let i) = v else { break }
        ints.append(i)
      }
      if ints.count == items.count { return ints.sorted().map { .int($0) } }
      var strs: [(String.UnicodeScalarView, Value)] = []
      for v in items {
        guard case .str(let t) = v else { break }
        strs.append((t.unicodeScalars, v))
      }
      if strs.count == items.count {
        return strs.sorted { $0.0.lexicographicallyPrecedes($1.0) }.map { $0.1 }
      }
    }
    var failure: Error? = nil
    let keyed: [(Value, Value)] = try items.map { item in (item, try key.map { k in try call(k, [item]) } ?? item) }
    let sorted = keyed.sorted { a, b in
      if failure != nil { return false }
      do { return try lessThan(a.1, b.1, "<", noLoc) } catch {
        failure = error
        return false
      }
    }
    if let failure { throw failure }
    return sorted.map { $0.0 }
  }
}

/// Sleeps until the deadline, resuming after signals, but stopping with an
/// "interrupt" error on Ctrl-C.
public func interruptibleSleep(_ secs: Double) throws {
  let deadline = Timing.now() + secs
  while true {
    let left = deadline - Timing.now()
    if left <= 0 { return }
    // Slept in slices, the flag checked after each: a Ctrl-C that came
    // just before nanosleep() interrupts no system call.
    let slice = min(left, 0.1)
    var ts = timespec(tv_sec: Int(slice), tv_nsec: Int((slice - Double(Int(slice))) * 1e9))
    if mp_interrupt_flag == 0 { nanosleep(&ts, nil) }
    if mp_interrupt_flag != 0 {
      mp_interrupt_flag = 0
      throw MPError(.interrupt, "interrupted")
    }
  }
}

func toFloat(_ x: Value) throws -> Value {
  switch x {
  case .float: return x
  case .int(let i): return .float(Double(i))
  case .bool(let b): return .float(b ? 1 : 0)
  case .str(let s):
    let t = s.trimmed()
    if let d = Double(t) { return .float(d) }
    switch t.lowercased() {
    case "inf", "+inf", "infinity": return .float(.infinity)
    case "-inf", "-infinity": return .float(-.infinity)
    case "nan": return .float(.nan)
    default: throw MPError(.value, "cannot convert \(x.repr) to a float")
    }
  default: throw MPError(.type, "float() needs a number or string, found \(x.typeName)")
  }
}

func toInt(_ x: Value, base: Value?) throws -> Value {
  switch x {
  case .int: return x
  case .bool(let b): return .int(b ? 1 : 0)
  case .float(let d):
    guard d.isFinite, let i = Int(exactly: d.rounded(.towardZero)) else {
      throw MPError(.overflow, "int() of \(formatFloat(d)) does not fit in 64 bits")
    }
    return .int(i)
  case .str(let s):
    var radix = 10
    if let b = base {
      guard case .int(let r) = b, r >= 2, r <= 36 else { throw MPError(.value, "int() base must be an int from 2 to 36") }
      radix = r
    }
    var t = s.trimmed().replacingUnderscores()
    if radix == 16, t.lowercased().hasPrefix("0x") { t.removeFirst(2) }
    guard let i = Int(t, radix: radix) else { throw MPError(.value, "cannot convert \(x.repr) to an int") }
    return .int(i)
  default: throw MPError(.type, "int() needs a number or string, found \(x.typeName)")
  }
}


extension Double {
  static func pow10(_ n: Int) -> Double {
    var r = 1.0
    for _ in 0..<n { r *= 10 }
    return r
  }
}

extension String {
  func trimmed() -> String {
    var u = Substring(self).drop(while: { $0.isWhitespace })
    while let c = u.last, c.isWhitespace { u.removeLast() }
    return String(u)
  }
  func replacingUnderscores() -> String { String(self.filter { $0 != "_" }) }
}

/// xoshiro256**: fast, good enough for experiments, and reseedable so a
/// forked child does not repeat its parent's numbers.
public final class Random {
  nonisolated(unsafe) public static let shared = Random()
  private var s: (UInt64, UInt64, UInt64, UInt64) = (1, 2, 3, 4)

  init() {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    seed(UInt64(ts.tv_nsec) ^ (UInt64(ts.tv_sec) << 20) ^ UInt64(getpid()))
  }

  public func seed(_ n: UInt64) {
    var x = n
    func splitmix() -> UInt64 {
      x &+= 0x9E37_79B9_7F4A_7C15
      var z = x
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
    s = (splitmix(), splitmix(), splitmix(), splitmix())
  }

  /// Set by `seed(n)`: the children spawned after it get streams derived
  /// from `n` and their spawn order (docs: reference, "Randomness").
  private var programSeed: UInt64? = nil
  /// Children forked since `seed(n)`, counted in the parent before each fork.
  private var forks: UInt64 = 0

  /// `seed(n)`: this process's stream, and the numbering of the children
  /// it spawns from now on.
  public func seedProgram(_ n: UInt64) {
    seed(n)
    programSeed = n
    forks = 0
  }

  /// Called in the parent just before each fork. Only a seeded program
  /// counts: a page the parent writes between forks costs it a
  /// copy-on-write fault after every fork.
  public func willFork() { if programSeed != nil { forks &+= 1 } }

  /// Called in every forked child, with its pid and its spawn serial (never
  /// the same twice in a program's run). After `seed(n)` the k-th child
  /// gets a stream derived from `n` and `k` (and numbers its own children
  /// from that); otherwise it mixes its pid and serial into the parent's
  /// stream (seeded from the clock at start-up), so unseeded children are
  /// independent, with no system call or clock read in the child.
  public func reseedForChild(pid: Int32, serial: Int) {
    if let n = programSeed {
      let derived = (n ^ 0x6A09_E667_F3BC_C909) &* 0x9E37_79B9_7F4A_7C15 &+ forks &* 0xBF58_476D_1CE4_E5B9
      seedProgram(derived)
      return
    }
    seed(next() ^ UInt64(UInt32(bitPattern: pid)) &* 0x9E37_79B9 ^ UInt64(bitPattern: Int64(serial)) &* 0xBF58_476D_1CE4_E5B9)
  }

  public func next() -> UInt64 {
    func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }
    let result = rotl(s.1 &* 5, 7) &* 9
    let t = s.1 << 17
    s.2 ^= s.0
    s.3 ^= s.1
    s.1 ^= s.2
    s.0 ^= s.3
    s.2 ^= t
    s.3 = rotl(s.3, 45)
    return result
  }

  public func nextDouble() -> Double { Double(next() >> 11) * 0x1.0p-53 }
}
