import MPLanguage
import Glibc

/// The REPL without a terminal: lines are gathered until they form complete
/// statements (the parser says whether input merely ended early), then run,
/// exactly as the terminal REPL would run them, `:` commands included.
struct PipedSession {
  let session: Session

  init(_ interp: Interpreter) {
    session = Session(interp, interactive: false)
  }

  mutating func run() -> Int32 {
    var pending = ""
    var pendingLines = 0
    while let line = readLine(strippingNewline: true) {
      pending += pendingLines == 0 ? line : "\n" + line
      pendingLines += 1
      if session.needsMore(pending) { continue }
      // Where a terminal would show the next prompt: report children that
      // failed in the background meanwhile.
      if let news = Repl.runtime.beforePrompt() { writeAll(2, news) }
      if case .exit(let code) = session.handle(pending, lineCount: pendingLines) { return code }
      pending = ""
      pendingLines = 0
    }
    // Input ended inside an open bracket or block: running it reports that.
    if !pending.trimmingWhitespace().isEmpty,
      case .exit(let code) = session.handle(pending, lineCount: pendingLines)
    {
      return code
    }
    if case .exit(let code)? = session.leave() { return code }
    return session.failed ? 1 : 0
  }
}

/// Whether some REPL input is a whole set of statements yet.
public enum Completeness: Equatable {
  case complete
  case incomplete
  /// A real syntax error: running it will report the error.
  case invalid

  public static func of(_ text: String, firstLine: Int = 1) -> Completeness {
    do {
      try Interpreter.check(text, file: "<completeness>", firstLine: firstLine)
      return .complete
    } catch let e as MPError {
      guard e.isIncomplete else { return .invalid }
      return inputEndedEarly(text, at: e.loc, firstLine: firstLine) ? .incomplete : .invalid
    } catch {
      return .invalid
    }
  }

  /// The parser marks an error "incomplete" when it meets an end of input,
  /// but inside an interpolation hole (`"{1+}"`) that end is the hole's, not
  /// the text's: waiting for more lines would swallow the rest of the session.
  /// The lexer's incomplete errors (a string or hole running off the end) are
  /// genuine; a parser's is genuine only when it sits past the last character.
  static func inputEndedEarly(_ text: String, at loc: SourceLocation?, firstLine: Int) -> Bool {
    do {
      _ = try Lexer.tokenize(text, file: "<completeness>", line: firstLine)
    } catch let e as MPError {
      return e.isIncomplete
    } catch {
      return false
    }
    guard let loc else { return true }
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { Array($0.unicodeScalars) }
    guard let last = lines.lastIndex(where: { $0.contains(where: { !$0.properties.isWhitespace }) }) else { return true }
    let lastLine = firstLine + last
    let lastColumn = (lines[last].lastIndex(where: { !$0.properties.isWhitespace }) ?? 0) + 1
    return loc.line > lastLine || (loc.line == lastLine && loc.column > lastColumn)
  }
}

extension String {
  func trimmingWhitespace() -> String {
    var u = Substring(self).drop(while: { $0.isWhitespace })
    while let c = u.last, c.isWhitespace { u.removeLast() }
    return String(u)
  }
}
