/// What a test script says it should print, read from its comments:
///
///     # expect: LINE                 the next stdout line, exactly
///     # expect unordered: LINE       consecutive ones match in any order
///     # expect error: TEXT           the run fails and stderr contains TEXT
///
/// Lines are compared after trimming trailing whitespace.
public struct Expectations: Equatable {
  public enum Step: Equatable {
    case line(String)
    case unordered([String])
  }

  public var steps: [Step] = []
  public var errors: [String] = []

  public var isEmpty: Bool { steps.isEmpty && errors.isEmpty }

  public init(steps: [Step] = [], errors: [String] = []) {
    self.steps = steps
    self.errors = errors
  }

  /// Reads the expectation comments of a script.
  public static func parse(_ source: String) -> Expectations {
    var e = Expectations()
    var lastWasUnordered = false
    for raw in source.split(separator: "\n", omittingEmptySubsequences: false) {
      guard let hash = raw.firstIndex(of: "#") else {
        lastWasUnordered = false
        continue
      }
      let before = raw[..<hash]
      var comment = raw[raw.index(after: hash)...].drop(while: { $0 == " " })
      let standalone = before.allSatisfy { $0 == " " || $0 == "\t" }
      if comment.hasPrefix("expect unordered:") {
        comment = comment.dropFirst("expect unordered:".count)
        let text = value(comment)
        if lastWasUnordered, case .unordered(var group)? = e.steps.last {
          group.append(text)
          e.steps[e.steps.count - 1] = .unordered(group)
        } else {
          e.steps.append(.unordered([text]))
        }
        lastWasUnordered = true
        continue
      }
      if comment.hasPrefix("expect error:") {
        e.errors.append(value(comment.dropFirst("expect error:".count)))
      } else if comment.hasPrefix("expect:") {
        e.steps.append(.line(value(comment.dropFirst("expect:".count))))
      } else if standalone {
        continue  // an ordinary comment line does not break an unordered run
      }
      lastWasUnordered = false
    }
    return e
  }

  private static func value(_ s: Substring) -> String {
    var t = s
    if t.first == " " { t = t.dropFirst() }
    while let c = t.last, c == " " || c == "\t" || c == "\r" { t = t.dropLast() }
    return String(t)
  }

  /// Compares a run with the expectations; nil when it passed, otherwise a
  /// report of what differs.
  public func check(stdout: String, stderr: String, exitStatus: Int32) -> String? {
    var lines = stdout.split(separator: "\n", omittingEmptySubsequences: false).map { l -> String in
      var t = Substring(l)
      while let c = t.last, c == " " || c == "\t" || c == "\r" { t = t.dropLast() }
      return String(t)
    }
    if lines.last == "" { lines.removeLast() }
    var problems: [String] = []
    var i = 0
    for step in steps {
      switch step {
      case .line(let want):
        if i >= lines.count {
          problems.append("expected line \(i + 1): \(want)\n   but output ended")
        } else if lines[i] != want {
          problems.append("line \(i + 1):\n   expected: \(want)\n   got:      \(lines[i])")
        }
        i += 1
      case .unordered(let group):
        let got = Array(lines[min(i, lines.count)..<min(i + group.count, lines.count)])
        if got.sorted() != group.sorted() {
          let missing = group.filter { g in !got.contains(g) }
          let extra = got.filter { g in !group.contains(g) }
          var msg = "lines \(i + 1)-\(i + group.count) (any order):"
          if !missing.isEmpty { msg += "\n   missing:    " + missing.joined(separator: "\n               ") }
          if !extra.isEmpty { msg += "\n   unexpected: " + extra.joined(separator: "\n               ") }
          if missing.isEmpty && extra.isEmpty { msg += "\n   the same lines, but not as many of each" }
          problems.append(msg)
        }
        i += group.count
      }
    }
    if !steps.isEmpty && i < lines.count {
      problems.append("unexpected extra output from line \(i + 1):\n   " + lines[i...].prefix(5).joined(separator: "\n   "))
    }
    if errors.isEmpty {
      if exitStatus != 0 {
        problems.append("exited with status \(exitStatus)" + (stderr.isEmpty ? "" : ":\n" + indent(stderr)))
      }
    } else {
      if exitStatus == 0 { problems.append("expected the run to fail, but it exited with status 0") }
      for want in errors where !stderr.contains(want) {
        problems.append("expected an error containing: \(want)\n   stderr was:\n" + indent(stderr))
      }
    }
    return problems.isEmpty ? nil : problems.joined(separator: "\n")
  }

  private func indent(_ s: String) -> String {
    s.split(separator: "\n").prefix(12).map { "     " + $0 }.joined(separator: "\n")
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
