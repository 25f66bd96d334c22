import XCTest
@testable import MPLanguage
import MPTestSupport

/// Robustness: well over 100,000 random and mutated programs go through the
/// lexer, the parser and (when they parse) the evaluator under a step limit.
/// Nothing may crash, trap or hang, and every failure must be an MPError;
/// syntax errors must carry a location. The inputs come from a fixed seed, so
/// a failure names the program that caused it and reproduces exactly.
final class FuzzTests: XCTestCase {
  // MARK: deterministic randomness

  struct SplitMix64 {
    var state: UInt64
    mutating func next() -> UInt64 {
      state &+= 0x9E37_79B9_7F4A_7C15
      var z = state
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
    /// A number in 0..<n (n > 0).
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    mutating func chance(_ percent: Int) -> Bool { below(100) < percent }
    mutating func pick<T>(_ xs: [T]) -> T { xs[below(xs.count)] }
  }

  // MARK: inputs

  /// Valid programs covering the language; the mutators start from these.
  /// They avoid imports and keep loops and sizes small, so that a mutated
  /// program cannot ask for gigabytes within the step limit.
  static let seeds: [String] = [
    """
    let x = 1_000
    let y = 0x1f + .5 * 2 - 1e-3
    print(x // 7, x % 7, x / 8, -x, y)
    """,
    """
    let s = "hello {1 + 2} and {"nested"} {3.14159:.2f} {42:05d} {'r':>4}"
    print(s, 'single', "esc \\n \\t \\" \\{ \\}", len(s))
    """,
    """
    let xs = [3, 1, 2]
    xs.push(4)
    xs.append(5)
    xs.insert(0, 9)
    print(xs.pop(), xs.pop(0), xs.index(2), xs.slice(1, 3), sorted(xs), reversed(xs))
    xs.sort()
    xs.reverse()
    xs.remove(1)
    """,
    """
    let m = {"a": 1, "b": [1, 2], 3: {"c": nil}, true: false}
    m["d"] = 4
    m["a"] += 1
    for k in m { print(k, m[k]) }
    print(m.keys(), m.values(), m.items(), m.get("z", 0), m.contains("a"), m.remove("d"))
    """,
    """
    fn fact(n) {
      if n <= 1 { return 1 }
      return n * fact(n - 1)
    }
    print(fact(10))
    """,
    """
    fn make_counter(start = 0) {
      let n = start
      return fn() {
        n += 1
        return n
      }
    }
    let c = make_counter(5)
    c()
    print(c())
    """,
    """
    let i = 0
    while i < 10 {
      i += 1
      if i % 2 == 0 { continue }
      if i > 7 { break }
    }
    print(i)
    """,
    """
    for i, v in enumerate(["a", "b"]) { print(i, v) }
    for a, b in zip([1, 2], "xy") { print(a, b) }
    for ch in "abc" { print(ch) }
    for k in range(0, 10, 3) { print(k) }
    """,
    """
    try {
      let z = 1 / 0
    } catch e {
      print(e["kind"], e["message"])
    }
    try { throw {"code": 1} } catch err { print(err["value"]) }
    """,
    """
    if 1 < 2 and not false or nil {
      print("yes")
    } else if 2 in [1, 2] {
      print("maybe")
    } else {
      print("no")
    }
    """,
    """
    let f = fn(x) => x * x
    let g = fn(a, b = 2) { return a + b }
    print(f(3), g(1), g(1, 1), sorted([3, 1, 2], fn(v) => -v))
    """,
    """
    let words = "the quick brown fox".split()
    print("-".join(words).upper(), " x ".strip(), "abc".startswith("a"), "abc".endswith("c"))
    print("aXbXc".replace("X", "."), "hello".find("l"), "banana".count("a"), "hello"[1], "hello".slice(1, 3))
    """,
    """
    print(str(1), int("42"), float("2.5"), bool([]), type(nil), repr("q"), abs(-3), min(3, 1), max([4, 9]))
    print(sum([1, 2, 3]), round(2.5), round(3.14159, 2), len("abc"), keys({"a": 1}), values({"a": 1}))
    print(contains([1, 2], 2), list(range(3)), 7 // -2, -7 % 3, 2 * "ab", [0] * 3)
    """,
    """
    seed(7)
    let r = random()
    let k = randint(1, 6)
    assert(r >= 0 and r < 1, "random in range")
    assert(k >= 1 and k <= 6)
    """,
    """
    fn outer() {
      fn helper(k) { return k * 2 }
      let fs = []
      for i in range(3) { fs.push(fn() => helper(i)) }
      return fs
    }
    for f in outer() { print(f()) }
    """,
    """
    let grid = [[0, 0], [0, 0]]
    grid[1][0] = 5
    grid[0][-1] -= 1
    let total = 0
    for row in grid { for v in row { total += v } }
    print(grid, total)
    """,
    """
    fn classify(n) {
      if n < 0 { return "neg" }
      else if n == 0 { return "zero" }
      return "pos"
    }
    print(classify(-1), classify(0), classify(5))
    """,
    """
    let a = [1, [2, 3], {"k": "v"}]
    let b = [1, [2, 3], {"k": "v"}]
    print(a == b, a != b, 1 == 1.0, "a" < "b", [1, 2] < [1, 3], nil == false)
    """,
    """
    let acc = []
    let n = 5
    while n > 0 { acc.push(n); n -= 1 }
    print(acc, len(acc), acc[0], acc[-1])
    let t = 1; t *= 3; t //= 2; t %= 5; t /= 2
    print(t)
    """,
    """
    fn safe(f) {
      try { return f() } catch e { return e["kind"] }
    }
    print(safe(fn() => [][1]), safe(fn() => {}["x"]), safe(fn() => undefined_name), safe(fn() => 1 + "a"))
    """,
    """
    fn main() {
      let big = 9223372036854775807
      try { big + 1 } catch e { print(e["kind"]) }
    }
    main()
    """,
    """
    let m = {}
    for w in "a b a c b a".split() { m[w] = m.get(w, 0) + 1 }
    print(m, sorted(keys(m), fn(k) => -m[k]))
    """,
    """
    let text = "line one\\nline two"
    for line in text.split("\\n") {
      let parts = line.split(" ")
      print(parts[0], len(parts))
    }
    """,
    """
    fn sq(n) => n * n
    print(sq(4), [sq(1), sq(2)], {"k": sq(3)})
    """,
    """
    let nums = [5, 3, 8]
    let best = nil
    for x in nums {
      if best == nil or x > best { best = x }
    }
    print("best: {best}", "{best:>6}", "{0.5:.1%}")
    """,
  ]

  /// Tokens for random token streams: every keyword, operator and kind of literal.
  static let vocabulary: [String] = {
    var v = Keyword.allCases.map { $0.rawValue }.filter { $0 != "import" }
    v += ["+", "-", "*", "/", "//", "%", "==", "!=", "<", "<=", ">", ">=", "=", "+=", "-=", "*=", "/=",
          "//=", "%=", "(", ")", "[", "]", "{", "}", ",", ".", ":", ";", "=>", "\n", "\n", "\n"]
    v += ["x", "y", "f", "g", "xs", "m", "n", "e", "i", "time", "print", "len", "range", "str", "sorted",
          "push", "pop", "keys", "assert", "main", "type", "int", "sum", "enumerate", "zip"]
    v += ["0", "1", "2", "3", "10", "-1", "2.5", ".5", "1e3", "0x1f", "1_0", "\"s\"", "'q'", "\"a{x}b\"",
          "\"{x:>4}\"", "\"\\n\"", "\"\"", "[]", "{}", "fn(a) => a", "fn() { }"]
    return v
  }()

  /// Splits source text into rough lexemes (enough to shuffle and mutate).
  static func lexemes(_ text: String) -> [String] {
    let s = Array(text.unicodeScalars)
    var out: [String] = []
    var i = 0
    func str(_ a: Int, _ b: Int) -> String {
      var r = ""
      r.unicodeScalars.append(contentsOf: s[a..<b])
      return r
    }
    func isWord(_ c: Unicode.Scalar) -> Bool { c.properties.isAlphabetic || c == "_" || ("0"..."9").contains(c) }
    while i < s.count {
      let c = s[i]
      if c == " " || c == "\t" { i += 1; continue }
      let start = i
      if c == "\"" || c == "'" {
        i += 1
        while i < s.count, s[i] != c, s[i] != "\n" { i += s[i] == "\\" ? 2 : 1 }
        i = min(i + 1, s.count)
      } else if isWord(c) || (c == "." && i + 1 < s.count && ("0"..."9").contains(s[i + 1])) {
        let numeric = ("0"..."9").contains(c) || c == "."
        i += 1
        while i < s.count {
          let d = s[i]
          let fraction = d == "." && i + 1 < s.count && ("0"..."9").contains(s[i + 1])
          let exponentSign = numeric && (d == "+" || d == "-") && (s[i - 1] == "e" || s[i - 1] == "E")
            && i + 1 < s.count && ("0"..."9").contains(s[i + 1])
          guard isWord(d) || fraction || exponentSign else { break }
          i += 1
        }
      } else if i + 1 < s.count, ["==", "!=", "<=", ">=", "=>", "+=", "-=", "*=", "/=", "%=", "//"].contains(str(i, i + 2)) {
        i += 2
        if str(start, i) == "//", i < s.count, s[i] == "=" { i += 1 }
      } else {
        i += 1
      }
      out.append(str(start, i))
    }
    return out
  }

  /// Lexemes that can replace each other without unbalancing brackets.
  static func lexemeClass(_ t: String) -> String {
    guard let c = t.unicodeScalars.first else { return "" }
    if c == "\"" || c == "'" { return "string" }
    if ("0"..."9").contains(c) || (c == "." && t.count > 1) { return "number" }
    if c.properties.isAlphabetic || c == "_" { return Keyword(rawValue: t) != nil ? "keyword" : "name" }
    if ["+", "-", "*", "/", "//", "%"].contains(t) { return "arith" }
    if ["==", "!=", "<", "<=", ">", ">="].contains(t) { return "compare" }
    if ["=", "+=", "-=", "*=", "/=", "//=", "%="].contains(t) { return "assign" }
    return t
  }

  static let lexemesByClass: [String: [String]] = {
    var out: [String: [String]] = [:]
    for s in seeds { for t in lexemes(s) { out[lexemeClass(t), default: []].append(t) } }
    return out
  }()

  static func join(_ toks: [String], _ rng: inout SplitMix64) -> String {
    var out = ""
    for t in toks {
      if !out.isEmpty && !out.hasSuffix("\n") && t != "\n" && !rng.chance(3) { out += " " }
      out += t
    }
    return out
  }

  /// The next program of the given family.
  static func program(family: Int, _ rng: inout SplitMix64) -> String {
    switch family {
    case 0:  // random bytes, anything from 0 to 255 (invalid UTF-8 becomes U+FFFD)
      let n = rng.below(120)
      let bytes = (0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
      return String(decoding: bytes, as: UTF8.self)
    case 1:  // random printable ASCII with newlines, brackets and quotes over-represented
      let alphabet = Array("abcxyz019_ +-*/%=<>!&|()[]{},.:;#\"'\\\n\t{}()\"")
      return String((0..<rng.below(100)).map { _ in rng.pick(alphabet) })
    case 2:  // random token streams
      let n = 1 + rng.below(40)
      return join((0..<n).map { _ in rng.pick(vocabulary) }, &rng)
    case 3:  // a seed with one token swapped for another of the same class (mostly still valid)
      var toks = lexemes(rng.pick(seeds))
      for _ in 0..<(1 + rng.below(2)) where !toks.isEmpty {
        let i = rng.below(toks.count)
        let pool = lexemesByClass[lexemeClass(toks[i])] ?? [toks[i]]
        toks[i] = rng.pick(pool)
      }
      return join(toks, &rng)
    case 4:  // a seed with its tokens mutated a little
      var toks = lexemes(rng.pick(seeds))
      for _ in 0..<(1 + rng.below(3)) {
        guard !toks.isEmpty else { break }
        let i = rng.below(toks.count)
        switch rng.below(6) {
        case 0: toks.remove(at: i)
        case 1: toks.insert(rng.pick(vocabulary), at: i)
        case 2: toks[i] = rng.pick(vocabulary)
        case 3: toks.swapAt(i, rng.below(toks.count))
        case 4: toks.insert(toks[rng.below(toks.count)], at: i)
        default:
          let j = min(toks.count, i + 1 + rng.below(6))
          toks.insert(contentsOf: toks[i..<j], at: rng.below(toks.count))
        }
      }
      return join(toks, &rng)
    case 5:  // a seed's tokens shuffled entirely, or a window of them shuffled
      var toks = lexemes(rng.pick(seeds))
      if rng.chance(50) {
        for i in stride(from: toks.count - 1, to: 0, by: -1) { toks.swapAt(i, rng.below(i + 1)) }
      } else if toks.count > 2 {
        let a = rng.below(toks.count - 1)
        let b = min(toks.count, a + 2 + rng.below(8))
        var window = Array(toks[a..<b])
        for i in stride(from: window.count - 1, to: 0, by: -1) { window.swapAt(i, rng.below(i + 1)) }
        toks.replaceSubrange(a..<b, with: window)
      }
      return join(toks, &rng)
    case 6:  // a seed truncated at any character (or only its tail kept)
      let s = Array(rng.pick(seeds).unicodeScalars)
      let cut = rng.below(s.count + 1)
      var out = ""
      out.unicodeScalars.append(contentsOf: rng.chance(80) ? s[..<cut] : s[cut...])
      return out
    case 7:  // a seed concatenated with a random slice of another seed
      let a = rng.pick(seeds), b = Array(rng.pick(seeds).unicodeScalars)
      let i = rng.below(b.count), j = min(b.count, i + rng.below(60))
      var tail = ""
      tail.unicodeScalars.append(contentsOf: b[i..<j])
      return rng.chance(50) ? a + tail : tail + a
    default:  // a seed with a few bytes flipped, inserted or deleted
      var bytes = Array(rng.pick(seeds).utf8)
      for _ in 0..<(1 + rng.below(4)) {
        let i = rng.below(bytes.count + 1)
        switch rng.below(3) {
        case 0 where i < bytes.count: bytes[i] = UInt8(truncatingIfNeeded: rng.next())
        case 1: bytes.insert(rng.pick(Array("(){}[]\"'\n,.;=:#\\-0123456789".utf8)), at: i)
        default: if i < bytes.count { bytes.remove(at: i) }
        }
      }
      return String(decoding: bytes, as: UTF8.self)
    }
  }

  // MARK: the harness

  /// Built-ins that only compute. Every other built-in (print, sleep, exit,
  /// and whatever the runtime adds later) is replaced by a stub in the fuzz
  /// interpreter, so random programs cannot write, wait, exit or spawn.
  static let pureBuiltins: Set<String> = [
    "str", "repr", "type", "int", "float", "bool", "len", "range", "list", "abs", "min", "max", "sum",
    "round", "sorted", "reversed", "enumerate", "zip", "keys", "values", "contains", "assert", "random",
    "randint", "seed", "now",
  ]

  /// Literal numbers beyond this keep a program from being evaluated (it is
  /// still lexed and parsed): they are how a mutation could ask for `[0] * 10**9`.
  static func hasHugeLiteral(_ tokens: [Token]) -> Bool {
    for t in tokens {
      switch t.kind {
      case .int(let v): if v > 1000 || v < -1000 { return true }
      case .float(let d): if abs(d) > 1000 { return true }
      default: break
      }
    }
    return false
  }

  struct Stats {
    var programs = 0, lexed = 0, parsed = 0, ran = 0, ranClean = 0
    var syntaxErrors = 0, runtimeErrors: [String: Int] = [:], runtimeWithoutLocation: [String: Int] = [:]
    var skippedHuge = 0, slowest = 0.0, slowestProgram = ""
  }

  /// The full 115,000-program run takes most of `swift test`'s time, so a
  /// default run does a 25th of it (every family, the same generator);
  /// `.ci/run` sets MP_TEST_FULL=1 for the whole run (`TestSize`).
  static let fullRun = TestSize.full

  func testOver100000RandomAndMutatedProgramsNeverCrashHangOrFailWithoutAnMPError() {
    // random bytes, random ASCII, token streams, same-class swaps, mutations,
    // shuffles, truncations, splices, byte edits
    let fullCounts = [12_000, 12_000, 15_000, 18_000, 20_000, 8_000, 12_000, 6_000, 12_000]
    let scale = FuzzTests.fullRun ? 1 : 25
    let perFamily = fullCounts.map { $0 / scale }
    var rng = SplitMix64(state: 0x6D70_2D66_757A_7A21)
    var stats = Stats()
    let started = Timing.now()

    // Neutralise side effects for every module this interpreter creates.
    _ = Interpreter(mainFile: "warm-up.mp")  // registers the core built-ins
    let saved = Interpreter.builtins
    defer { Interpreter.builtins = saved }
    for (name, b) in saved where !FuzzTests.pureBuiltins.contains(name) {
      Interpreter.builtins[name] = Builtin(name, b.minArgs, b.maxArgs, "fuzz stub") { _, _ in .nil }
    }
    let interp = Interpreter(mainFile: "fuzz.mp")
    for (name, b) in Interpreter.builtins where !FuzzTests.pureBuiltins.contains(name) {
      interp.main.set(name, .builtin(b))
    }
    XCTAssertEqual(interp.main.get("print").map { if case .builtin(let b) = $0 { return b.doc } else { return "" } }, "fuzz stub")

    var failures = 0
    func fail(_ what: String, _ src: String, _ family: Int, _ index: Int) {
      failures += 1
      if failures <= 20 {
        XCTFail("\(what)\nfamily \(family), program \(index):\n\(src.debugDescription)")
      }
    }

    var familyTimes: [String] = []
    for (family, count) in perFamily.enumerated() {
      let familyStart = Timing.now()
      defer { familyTimes.append(String(format: "%.1f", Timing.now() - familyStart)) }
      for index in 0..<count {
        let src = FuzzTests.program(family: family, &rng)
        stats.programs += 1
        let t0 = Timing.now()

        // 1. Lexer
        let tokens: [Token]
        do {
          tokens = try Lexer.tokenize(src, file: "fuzz.mp")
          stats.lexed += 1
        } catch let e as MPError {
          if e.kind != .syntax || e.loc == nil { fail("lexer error without syntax kind or location: \(e.kind) \(e.message)", src, family, index) }
          _ = e.render()
          stats.syntaxErrors += 1
          continue
        } catch {
          fail("lexer threw a non-MPError: \(error)", src, family, index)
          continue
        }

        // 2. Parser
        do {
          _ = try Parser.parse(src, file: "fuzz.mp")
          stats.parsed += 1
        } catch let e as MPError {
          if e.kind != .syntax || e.loc == nil { fail("parser error without syntax kind or location: \(e.kind) \(e.message)", src, family, index) }
          _ = e.render()
          stats.syntaxErrors += 1
          continue
        } catch {
          fail("parser threw a non-MPError: \(error)", src, family, index)
          continue
        }

        // 3. Evaluator, with a step limit
        if FuzzTests.hasHugeLiteral(tokens) {
          stats.skippedHuge += 1
          continue
        }
        if stats.ran % 250 == 0 {
          // A fresh main module now and then, so globals do not pile up.
          interp.reset()
          for (name, b) in Interpreter.builtins where !FuzzTests.pureBuiltins.contains(name) {
            interp.main.set(name, .builtin(b))
          }
        }
        stats.ran += 1
        interp.setStepLimit(2_000)
        do {
          try interp.runEntry(src, file: "fuzz.mp")
          stats.ranClean += 1
        } catch let e as MPError {
          stats.runtimeErrors[e.kind.rawValue, default: 0] += 1
          if e.loc == nil {
            stats.runtimeWithoutLocation[e.kind.rawValue, default: 0] += 1
            // Step-limit stops are raised by the periodic tick, which does not
            // know where the program is (reported as a bug); every other
            // error must say where it happened.
            if e.kind != .timeout { fail("\(e.kind) error without a location: \(e.message)", src, family, index) }
          }
          _ = e.render()
        } catch {
          fail("the evaluator threw a non-MPError: \(error)", src, family, index)
        }
        let took = Timing.now() - t0
        if took > stats.slowest {
          stats.slowest = took
          stats.slowestProgram = src
        }
        if took > 3 { fail("a program ran for \(took) s despite the step limit", src, family, index) }
      }
    }
    interp.setStepLimit(0)

    let total = Timing.now() - started
    let kinds = stats.runtimeErrors.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
    let noLoc = stats.runtimeWithoutLocation.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
    print("""
      fuzz: \(stats.programs) programs in \(String(format: "%.1f", total)) s; \(stats.lexed) lexed, \(stats.parsed) parsed, \
      \(stats.ran) evaluated (\(stats.ranClean) without error, \(stats.skippedHuge) not run: huge literals); \
      \(stats.syntaxErrors) syntax errors; runtime errors: \(kinds); without location: \(noLoc.isEmpty ? "none" : noLoc); \
      slowest \(String(format: "%.3f", stats.slowest)) s; seconds per family: \(familyTimes.joined(separator: " "))
      """)
    XCTAssertGreaterThanOrEqual(stats.programs, 100_000 / scale)
    XCTAssertGreaterThan(stats.parsed, 10_000 / scale, "too few programs parsed for the evaluator to be exercised")
    XCTAssertGreaterThan(stats.ranClean, 2_000 / scale, "too few programs ran cleanly")
    XCTAssertEqual(failures, 0)
  }

  /// Every seed program must itself be valid, or the mutators start from noise.
  func testEverySeedProgramParses() {
    for (i, s) in FuzzTests.seeds.enumerated() {
      XCTAssertNoThrow(try Parser.parse(s, file: "seed\(i).mp"), "seed \(i):\n\(s)")
    }
  }

  /// The lexeme splitter used by the mutators must not lose text.
  func testLexemesKeepEveryNonBlankCharacter() {
    for s in FuzzTests.seeds {
      let joined = FuzzTests.lexemes(s).joined()
      XCTAssertEqual(joined.filter { $0 != " " }, s.filter { $0 != " " && $0 != "\t" })
    }
  }

  /// Joining a seed's lexemes again gives a program that still parses.
  func testJoinedLexemesOfEverySeedStillParse() {
    for (i, s) in FuzzTests.seeds.enumerated() {
      var out = ""
      for t in FuzzTests.lexemes(s) { out += (out.isEmpty || out.hasSuffix("\n") ? "" : " ") + t }
      XCTAssertNoThrow(try Parser.parse(out, file: "seed\(i).mp"), "seed \(i) rejoined:\n\(out)")
    }
  }
}
