/// A compiled `match:` expectation: the whole line must match.
enum Pattern {
  /// Why a pattern does not compile, or nil when it does.
  static func problem(_ pattern: String) -> String? {
    do {
      _ = try Regex(pattern)
      return nil
    } catch {
      return "\(error)"
    }
  }

  /// Compiled patterns: a group of forty `match:` lines compares every
  /// pattern with every line. The runner is single-threaded.
  nonisolated(unsafe) static var compiled: [String: Regex<AnyRegexOutput>] = [:]

  static func matches(_ line: String, _ pattern: String) -> Bool {
    let re: Regex<AnyRegexOutput>
    if let r = compiled[pattern] {
      re = r
    } else {
      guard let r = try? Regex(pattern) else { return false }
      compiled[pattern] = r
      re = r
    }
    return (try? re.wholeMatch(in: line)) != nil
  }
}

extension Expectations.Want {
  func accepts(_ line: String) -> Bool {
    switch self {
    case .text(let s): return s == line
    case .match(let r): return Pattern.matches(line, r)
    }
  }

  /// For stderr: a line containing the text, or matching the pattern whole.
  func acceptsStderr(_ line: String) -> Bool {
    switch self {
    case .text(let s): return line.contains(s)
    case .match(let r): return Pattern.matches(line, r)
    }
  }
}

/// Pairs each expected line with a distinct actual line it accepts
/// (augmenting paths: a pattern must not take the line an exact text needs).
/// Returns, for each want, the index of its line, or nil when unpaired.
func pairUp(_ wants: [Expectations.Want], _ lines: [String], accepts: (Expectations.Want, String) -> Bool) -> [Int?] {
  let ok = wants.map { w in lines.map { accepts(w, $0) } }
  var lineOwner = [Int?](repeating: nil, count: lines.count)
  func augment(_ w: Int, _ seen: inout [Bool]) -> Bool {
    for l in lines.indices where ok[w][l] && !seen[l] {
      seen[l] = true
      if lineOwner[l] == nil || augment(lineOwner[l]!, &seen) {
        lineOwner[l] = w
        return true
      }
    }
    return false
  }
  for w in wants.indices {
    var seen = [Bool](repeating: false, count: lines.count)
    _ = augment(w, &seen)
  }
  var out = [Int?](repeating: nil, count: wants.count)
  for (l, w) in lineOwner.enumerated() { if let w { out[w] = l } }
  return out
}

extension Expectations {
  /// Compares a run with the expectations; nil when it passed, otherwise a
  /// report of what differs. `errorKind` is the kind of the error that
  /// ended the run, when the program reported one.
  public func check(stdout: String, stderr: String, exitStatus: Int32, errorKind: String? = nil) -> String? {
    let lines = Expectations.lines(stdout)
    var problems: [String] = mistakes
    let kindNote = errorKind.map { " (an error of kind \"\($0)\")" } ?? ""
    if errors.isEmpty && !mustFail {
      if exitStatus != 0 {
        // A failed assert is the checker speaking: its message is the news,
        // not the source line and call stack under it.
        let shown = errorKind == "assert" ? (stderr.split(separator: "\n").first.map(String.init) ?? stderr) : stderr
        problems.append("exited with status \(exitStatus)\(kindNote)" + (stderr.isEmpty ? "" : ":\n" + indent(shown)))
      }
    } else {
      if exitStatus == 0 { problems.append("expected the run to fail, but it exited with status 0") }
      for want in errors where !stderr.contains(want) && want != errorKind {
        problems.append("expected an error containing or of kind: \(want)\n   the run ended with status \(exitStatus)\(kindNote); stderr was:\n" + indent(stderr))
      }
    }
    // Stdout differences: when the output simply stops, one line says so
    // instead of one per missing line.
    var outProblems: [String] = []
    var i = 0
    var expectedCount = 0
    for step in steps {
      if case .unordered(let g) = step { expectedCount += g.count } else { expectedCount += 1 }
    }
    for step in steps {
      if i >= lines.count {
        outProblems.append("the output ended after \(lines.count) line\(lines.count == 1 ? "" : "s"); "
          + "\(expectedCount - i) more expected, the next: \(step.firstWant)")
        i = expectedCount
        break
      }
      switch step {
      case .line(let want):
        if !want.accepts(lines[i]) {
          outProblems.append("line \(i + 1):\n   expected: \(want)\n   got:      \(lines[i])")
        }
        i += 1
      case .unordered(let group):
        let got = Array(lines[min(i, lines.count)..<min(i + group.count, lines.count)])
        let pairs = pairUp(group, got) { $0.accepts($1) }
        if pairs.contains(where: { $0 == nil }) {
          let missing = group.indices.filter { pairs[$0] == nil }.map { "\(group[$0])" }
          let used = Set(pairs.compactMap { $0 })
          let extra = got.indices.filter { !used.contains($0) }.map { got[$0] }
          var msg = "lines \(i + 1)-\(i + group.count) (any order):"
          if !missing.isEmpty { msg += "\n   missing:    " + missing.joined(separator: "\n               ") }
          if !extra.isEmpty { msg += "\n   unexpected: " + extra.joined(separator: "\n               ") }
          if got.count < group.count { msg += "\n   (output ended after \(got.count) of them)" }
          outProblems.append(msg)
        }
        i += group.count
      }
    }
    if (!steps.isEmpty || expectsNoOutput) && i < lines.count {
      outProblems.append("unexpected extra output from line \(i + 1):\n   " + lines[i...].prefix(5).joined(separator: "\n   "))
    }
    let failedUnexpectedly = exitStatus != 0 && errors.isEmpty && !mustFail
    if failedUnexpectedly && outProblems.count > 1 {
      // The error above is the cause; the rest of stdout only follows from it.
      problems.append(outProblems[0])
      problems.append("(and \(outProblems.count - 1) more difference\(outProblems.count == 2 ? "" : "s") in stdout after that)")
    } else {
      problems += outProblems
    }
    if !stderrLines.isEmpty {
      let errLines = Expectations.lines(stderr)
      let pairs = pairUp(stderrLines, errLines) { $0.acceptsStderr($1) }
      for (w, p) in zip(stderrLines, pairs) where p == nil {
        problems.append("expected a stderr line " + (w.isMatch ? "matching: " : "containing: ") + w.text
          + "\n   stderr was:" + (stderr.isEmpty ? " empty" : "\n" + indent(stderr)))
      }
    }
    return problems.isEmpty ? nil : problems.joined(separator: "\n")
  }

  static func lines(_ text: String) -> [String] {
    var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { l -> String in
      var t = Substring(l)
      while let c = t.last, c == " " || c == "\t" || c == "\r" { t = t.dropLast() }
      return String(t)
    }
    if lines.last == "" { lines.removeLast() }
    return lines
  }

  private func indent(_ s: String) -> String {
    s.split(separator: "\n").prefix(12).map { "     " + $0 }.joined(separator: "\n")
  }
}

extension Expectations.Step {
  var firstWant: Expectations.Want {
    switch self {
    case .line(let w): return w
    case .unordered(let g): return g.first ?? .text("")
    }
  }
}

extension Expectations.Want {
  var isMatch: Bool { if case .match = self { return true } else { return false } }
  var text: String {
    switch self {
    case .text(let s), .match(let s): return s
    }
  }
}

extension StringProtocol {
  func contains(_ other: String) -> Bool {
    guard !other.isEmpty else { return true }
    var i = startIndex
    while i < endIndex {
      if self[i...].starts(with: other) { return true }
      i = index(after: i)
    }
    return false
  }
}
