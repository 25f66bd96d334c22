/// An mp error: what went wrong, where, and (for runtime errors) the mp call
/// stack. Errors are values: `try/catch` turns them into maps, `join` carries
/// them across processes.
public struct MPError: Error, @unchecked Sendable {
  /// What kind of error it is (docs/reference.md, "Errors"). Users see the
  /// raw value: `e["kind"]` is `"type"`, `"timeout"`, ...
  public enum Kind: String, CaseIterable, Sendable {
    /// An undefined or undeclared name.
    case name
    case type, value, index, key
    /// Division by zero.
    case zero
    case overflow, recursion, assert
    case `import`
    case timeout, closed, process, deadlock, interrupt
    /// `throw v`.
    case user
    /// A barrier broken by a timeout, a reset or a waiter's death.
    case broken
    /// Found by the parser; never raised by running code.
    case syntax
  }

  public var kind: Kind
  public var message: String
  public var loc: SourceLocation?
  /// Innermost first: function name and where in it the error passed.
  public var trace: [TraceEntry] {
    get { traceBox.entries }
    set { traceBox = TraceBox(newValue) }
  }
  /// The trace lives in a class: an error is taken out of its `Error` box
  /// (a copy) at every frame it unwinds through, and an array there would be
  /// copied whole each time — a 10,000-deep recursion error cost 50 million
  /// entry copies. Copies of one error share the entries; an error travels
  /// up one path, so nothing else sees them grow.
  var traceBox = TraceBox([])

  final class TraceBox: @unchecked Sendable {
    var entries: [TraceEntry]
    init(_ entries: [TraceEntry]) { self.entries = entries }
  }

  /// A copy with a trace of its own, for an error that is kept and thrown
  /// again (a joined child's, a pool result's): the frames one throw
  /// unwinds through must not appear in the next.
  public var rethrowable: MPError {
    var c = self
    c.traceBox = TraceBox(traceBox.entries)
    return c
  }

  /// Adds the frame the error is leaving, in place.
  public mutating func addTrace(_ entry: TraceEntry) {
    traceBox.entries.append(entry)
  }
  /// For `throw v`: the thrown value, as a codec-free description is not enough.
  public var value: Value? = nil
  /// True when the input simply ended too early (the REPL keeps reading).
  public var isIncomplete = false
  /// Where the error currently is inside the innermost unrecorded function;
  /// the call site that catches it turns that into a trace entry.
  var pendingLoc: SourceLocation? = nil

  public init(_ kind: Kind, _ message: String, at loc: SourceLocation? = nil) {
    self.kind = kind
    self.message = message
    self.loc = loc
    self.pendingLoc = loc
  }

  public struct TraceEntry: Sendable, Equatable {
    public var function: String
    public var loc: SourceLocation
    public init(function: String, loc: SourceLocation) {
      self.function = function
      self.loc = loc
    }
  }

  static func syntax(_ message: String, at loc: SourceLocation, incomplete: Bool = false) -> MPError {
    var e = MPError(.syntax, message, at: loc)
    e.isIncomplete = incomplete
    return e
  }

  /// Gives a location to an error raised by a built-in that did not know it.
  func located(_ loc: SourceLocation) -> MPError {
    var e = self
    if let l = e.loc, l.line > 0 {
      // Raised inside a callback a built-in made: continue the trace at the
      // built-in's call.
      if e.pendingLoc == nil || e.pendingLoc!.line == 0 { e.pendingLoc = loc }
      return e
    }
    e.loc = loc
    e.pendingLoc = loc
    return e
  }
}

/// Where source text is kept so that errors can quote the offending line.
public final class SourceRegistry: @unchecked Sendable {
  public static let shared = SourceRegistry()
  private var files: [String: [Substring]] = [:]

  public func register(file: String, text: String, firstLine: Int = 1) {
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    if firstLine <= 1 {
      files[file] = lines
      return
    }
    // REPL entries arrive piece by piece; keep earlier lines for messages.
    var all = files[file] ?? []
    if all.count < firstLine - 1 { all += Array(repeating: "", count: firstLine - 1 - all.count) }
    all.removeSubrange((firstLine - 1)..<all.count)
    all += lines
    files[file] = all
  }

  public func line(_ loc: SourceLocation) -> String? {
    guard let lines = files[loc.file], loc.line >= 1, loc.line <= lines.count else { return nil }
    var s = String(lines[loc.line - 1])
    if s.hasSuffix("\r") { s.removeLast() }
    return s
  }
}

extension MPError {
  /// The full diagnostic: `path:line:col: error: message`, the source line,
  /// a caret under the column, then the call stack innermost first.
  /// Source lines longer than this are shown as a window around the
  /// column: an error on a 10 MB line must not print it (and a caret
  /// line as long) again.
  static let excerptWidth = 500

  /// The part of `line` shown under an error, and the caret's 0-based
  /// column in it (`column` is 1-based, in Unicode scalars).
  static func excerpt(_ line: String, column: Int) -> (String, Int) {
    let scalars = line.unicodeScalars
    guard scalars.count > excerptWidth else { return (line, column - 1) }
    let half = excerptWidth / 2
    let col = max(0, min(column - 1, scalars.count))
    let start = max(0, min(col - half, scalars.count - excerptWidth))
    let end = min(scalars.count, start + excerptWidth)
    let from = scalars.index(scalars.startIndex, offsetBy: start)
    let to = scalars.index(from, offsetBy: end - start)
    var text = String(String.UnicodeScalarView(scalars[from..<to]))
    var caret = col - start
    if start > 0 {
      text = "..." + text
      caret += 3
    }
    if end < scalars.count { text += "..." }
    return (text, caret)
  }

  public func render(color: Bool = false) -> String {
    var out = ""
    let head = color ? "\u{1B}[1;31merror:\u{1B}[0m" : "error:"
    if let loc {
      out += "\(loc): \(head) \(message)\n"
      if let fullLine = SourceRegistry.shared.line(loc) {
        var (line, caretCol) = MPError.excerpt(fullLine, column: loc.column)
        let expanded = line.replacingTabs()
        out += "    \(expanded)\n"
        caretCol = max(0, min(caretCol, line.unicodeScalars.count))
        var pad = ""
        for (i, ch) in line.unicodeScalars.enumerated() where i < caretCol {
          pad += ch == "\t" ? "    " : " "
        }
        out += "    \(pad)^\n"
      }
    } else {
      out += "\(head) \(message)\n"
    }
    // Like Python, collapse a frame repeated by deep recursion.
    var i = 0
    var shown = 0
    while i < trace.count {
      var j = i + 1
      while j < trace.count && trace[j] == trace[i] { j += 1 }
      let run = j - i
      if shown < 40 {
        out += "  at \(trace[i].function) (\(trace[i].loc))\n"
        shown += 1
        if run > 3 {
          out += "  at \(trace[i].function) (\(trace[i].loc))\n"
          out += "  ... the same call repeated \(run - 2) more times\n"
          shown += 2
        } else {
          for _ in 1..<run { out += "  at \(trace[i].function) (\(trace[i].loc))\n" }
          shown += run - 1
        }
      } else {
        out += "  ... \(trace.count - i) more calls\n"
        break
      }
      i = j
    }
    return out
  }
}

extension String {
  func replacingTabs() -> String {
    var s = ""
    for ch in unicodeScalars { if ch == "\t" { s += "    " } else { s.unicodeScalars.append(ch) } }
    return s
  }
}
