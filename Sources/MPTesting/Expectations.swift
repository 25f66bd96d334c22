import MPLanguage

/// What a test script says it should do, read from its comments (only real
/// comments: the lexer finds them, so a `#` inside a string is text):
///
///     # expect: LINE                  the next stdout line, exactly
///     # expect match: REGEX           the next stdout line matches REGEX whole
///     # expect unordered: LINE        a run of these on consecutive lines
///     # expect unordered match: REGEX   matches that many lines in any order
///     # expect stderr: TEXT           some stderr line contains TEXT
///     # expect stderr match: REGEX    some stderr line matches REGEX whole
///     # expect error: TEXT            the run fails; TEXT is in stderr or is
///                                     the error's kind ("zero", "deadlock")
///     # expect no output              stdout is empty (and the run succeeds)
///     # mp test: must fail            the run must end with a non-zero status
///     # mp test: skip                 not run (a helper other files import)
///
/// Lines are compared after trimming trailing whitespace.
public struct Expectations: Equatable {
  /// One expected line: its exact text, or a regular expression it must
  /// match whole.
  public enum Want: Equatable, ExpressibleByStringLiteral, CustomStringConvertible {
    case text(String)
    case match(String)

    public init(stringLiteral s: String) { self = .text(s) }

    public var description: String {
      switch self {
      case .text(let s): return s
      case .match(let r): return "(match) " + r
      }
    }
  }

  public enum Step: Equatable {
    case line(Want)
    /// A run of `unordered` lines: as many output lines, in any order.
    case unordered([Want])
  }

  public var steps: [Step] = []
  /// `# expect error:` texts (or kinds).
  public var errors: [String] = []
  /// `# expect stderr:` lines.
  public var stderrLines: [Want] = []
  public var expectsNoOutput = false
  public var mustFail = false
  public var isSkipped = false
  /// The script calls `assert(...)` (found among its tokens).
  public var callsAssert = false
  /// Hints for the teacher that do not fail the file.
  public var warnings: [String] = []
  /// Mistakes in the expectation comments themselves (a bad regex).
  public var mistakes: [String] = []

  /// True when running the file would check something: a file that checks
  /// nothing passes whatever it does, so `mp test` refuses it.
  public var checksSomething: Bool {
    !steps.isEmpty || !errors.isEmpty || !stderrLines.isEmpty || expectsNoOutput || mustFail || callsAssert
  }

  public var isEmpty: Bool { steps.isEmpty && errors.isEmpty && stderrLines.isEmpty }

  public init(steps: [Step] = [], errors: [String] = [], stderrLines: [Want] = []) {
    self.steps = steps
    self.errors = errors
    self.stderrLines = stderrLines
  }

  /// Reads the expectation comments of a script.
  public static func parse(_ source: String, file: String = "") -> Expectations {
    var e = Expectations()
    // Where the current unordered run started and its last line, so that
    // only comments on consecutive lines join it.
    var groupStart = 0
    var groupLast = -2
    var groups: [(line: Int, wants: [Want])] = []
    for c in Lexer.comments(in: source, file: file) {
      let comment = c.text.drop(while: { $0 == " " || $0 == "\t" })
      if let rest = after(comment, "expect unordered match:") ?? after(comment, "expect unordered:") {
        let want: Want = comment.hasPrefix("expect unordered match:") ? .match(value(rest)) : .text(value(rest))
        e.validate(want, line: c.line)
        if c.line == groupLast + 1, case .unordered(var group)? = e.steps.last {
          group.append(want)
          e.steps[e.steps.count - 1] = .unordered(group)
          groups[groups.count - 1].wants = group
        } else {
          e.steps.append(.unordered([want]))
          groupStart = c.line
          groups.append((groupStart, [want]))
        }
        groupLast = c.line
        continue
      }
      if let rest = after(comment, "expect error:") {
        e.errors.append(value(rest))
      } else if let rest = after(comment, "expect stderr match:") {
        let want = Want.match(value(rest))
        e.validate(want, line: c.line)
        e.stderrLines.append(want)
      } else if let rest = after(comment, "expect stderr:") {
        e.stderrLines.append(.text(value(rest)))
      } else if let rest = after(comment, "expect match:") {
        let want = Want.match(value(rest))
        e.validate(want, line: c.line)
        e.steps.append(.line(want))
      } else if let rest = after(comment, "expect:") {
        e.steps.append(.line(.text(value(rest))))
      } else if value(comment[...]) == "expect no output" {
        e.expectsNoOutput = true
      } else if let rest = after(comment, "mp test:") {
        // A reason may follow the marker: `# mp test: skip (a helper)`.
        let marker = value(rest)
        if marker.hasPrefix("skip") {
          e.isSkipped = true
        } else if marker.hasPrefix("must fail") {
          e.mustFail = true
        } else {
          e.mistakes.append("line \(c.line): unknown '# mp test:' marker '\(marker)' (known: skip, must fail)")
        }
      }
    }
    for g in groups {
      if let w = twoKindsWarning(g.wants, line: g.line) { e.warnings.append(w) }
    }
    e.callsAssert = callsAssert(source, file: file)
    return e
  }

  private static func after(_ s: Substring, _ prefix: String) -> Substring? {
    s.hasPrefix(prefix) ? s.dropFirst(prefix.count) : nil
  }

  private mutating func validate(_ want: Want, line: Int) {
    if case .match(let r) = want, let problem = Pattern.problem(r) {
      mistakes.append("line \(line): bad regular expression '\(r)': \(problem)")
    }
  }

  private static func value(_ s: Substring) -> String {
    var t = s
    if t.first == " " { t = t.dropFirst() }
    while let c = t.last, c == " " || c == "\t" || c == "\r" { t = t.dropLast() }
    return String(t)
  }

  /// Whether the script calls `assert(`, read from its tokens so that the
  /// word in a string or a comment does not count.
  static func callsAssert(_ source: String, file: String) -> Bool {
    guard let tokens = try? Lexer.tokenize(source, file: file) else {
      // A script that does not even lex fails by itself; a plain search is
      // enough to decide whether it meant to check something.
      return source.contains("assert(")
    }
    for (i, t) in tokens.enumerated() where t.kind == .ident("assert") {
      if i + 1 < tokens.count, tokens[i + 1].kind == .op("(") { return true }
    }
    return false
  }

  /// A group written as two blocks of different kinds of line (all the
  /// "Sleeping" lines, then all the "Finished" lines) most likely meant
  /// "these in any order, then those": as one group it also accepts a
  /// "Finished" line before every "Sleeping" one.
  static func twoKindsWarning(_ group: [Want], line: Int) -> String? {
    let kinds = group.map(kind)
    var blocks: [(kind: String, count: Int)] = []
    for k in kinds {
      if let last = blocks.last, last.kind == k {
        blocks[blocks.count - 1].count += 1
      } else {
        blocks.append((k, 1))
      }
    }
    guard blocks.count == 2, blocks[0].count >= 2, blocks[1].count >= 2 else { return nil }
    return "line \(line): this unordered group has \(blocks[0].count) lines like '\(group[0])' and then "
      + "\(blocks[1].count) like '\(group[blocks[0].count])'; it accepts them interleaved in any order. "
      + "If the second kind always comes after the first, end the group with an ordinary line between them; "
      + "if they really interleave, write them interleaved to say so."
  }

  /// A line's shape: its words without the ones that carry numbers or
  /// single letters (ids, durations), so "Sleeping for 0.5 seconds" and
  /// "Sleeping for 1.0 seconds" are the same kind.
  static func kind(_ want: Want) -> String {
    let text: String
    switch want {
    case .text(let s): text = s
    case .match(let r): text = r
    }
    return text.split(separator: " ")
      .filter { w in w.count > 1 && !w.contains(where: { $0.isNumber }) }
      .joined(separator: " ")
  }
}
