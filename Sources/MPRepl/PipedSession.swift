import MPLanguage
import Glibc

/// The REPL without a terminal: lines are gathered until they form complete
/// statements (the parser says whether input merely ended early), then run.
struct PipedSession {
  let interp: Interpreter
  var failed = false
  var entry = 0

  init(_ interp: Interpreter) {
    self.interp = interp
    interp.echo = { v in writeAll(1, v.repr + "\n") }
  }

  mutating func run() -> Int32 {
    var pending = ""
    var pendingLine = 1
    var lineNo = 0
    while let line = readLine(strippingNewline: false) {
      lineNo += 1
      if pending.isEmpty { pendingLine = lineNo }
      pending += line
      if !line.hasSuffix("\n") { pending += "\n" }
      if case .incomplete = Completeness.of(pending, firstLine: pendingLine) { continue }
      runEntry(pending, firstLine: pendingLine)
      pending = ""
      if let code = exitCode { return code }
    }
    if !pending.trimmingWhitespace().isEmpty {
      runEntry(pending, firstLine: pendingLine)
      if let code = exitCode { return code }
    }
    do {
      try interp.runScriptEnd()
    } catch let e as MPError {
      writeAll(2, e.render())
      failed = true
    } catch {}
    return failed ? 1 : 0
  }

  var exitCode: Int32? = nil

  mutating func runEntry(_ text: String, firstLine: Int) {
    entry += 1
    do {
      try interp.runEntry(text, file: "<stdin>", firstLine: firstLine)
    } catch let e as MPError {
      writeAll(2, e.render())
      failed = true
    } catch let x as ExitRequest {
      exitCode = x.code
    } catch {
      writeAll(2, "error: \(error)\n")
      failed = true
    }
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
      try Interpreter.check(text, file: "<stdin>", firstLine: firstLine)
      return .complete
    } catch let e as MPError {
      return e.isIncomplete ? .incomplete : .invalid
    } catch {
      return .invalid
    }
  }
}

extension String {
  func trimmingWhitespace() -> String {
    var u = Substring(self).drop(while: { $0.isWhitespace })
    while let c = u.last, c.isWhitespace { u.removeLast() }
    return String(u)
  }
}
