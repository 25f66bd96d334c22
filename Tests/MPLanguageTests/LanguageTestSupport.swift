import XCTest
@testable import MPLanguage

/// Helpers shared by the language tests: run a program in-process and get
/// either its printed lines or the error it ended with.
enum LanguageTestSupport {
  /// The outcome of running a program: what it printed, and the error it ended with.
  struct Outcome {
    var lines: [String] = []
    var error: MPError? = nil
    /// A Swift error that is not an MPError (must never happen).
    var foreign: Error? = nil
  }

  /// Runs `source` as a whole script (like `mp FILE`), with `print`
  /// captured instead of written to stdout.
  /// `bytecode: false` runs every function with the closure compiler
  /// (as `MP_BYTECODE=0` does).
  static func run(_ source: String, file: String = "t.mp", stepLimit: Int = 0, bytecode: Bool = true) -> Outcome {
    var out = Outcome()
    let interp = Interpreter(mainFile: file)
    interp.usesBytecode = bytecode
    let box = LineBox()
    interp.main.set("print", .builtin(Builtin("print", 0, -1, "captured print") { args, _ in
      box.lines.append(args.map { $0.str }.joined(separator: " "))
      return .nil
    }))
    interp.setStepLimit(stepLimit)
    do {
      try interp.runEntry(source, file: file)
    } catch let e as MPError {
      out.error = e
    } catch {
      out.foreign = error
    }
    out.lines = box.lines
    return out
  }

  /// Runs `source` exactly as `mp FILE` does (runMain: fresh main module,
  /// then `main()` if defined) and returns the rendered error, without the
  /// final newline; nil if the program succeeded.
  static func renderedError(_ source: String, file: String = "t.mp", bytecode: Bool = true) -> (MPError, String)? {
    let interp = Interpreter(mainFile: file)
    interp.usesBytecode = bytecode
    do {
      try interp.runMain(source: source, file: file)
    } catch let e as MPError {
      var text = e.render(color: false)
      if text.hasSuffix("\n") { text.removeLast() }
      return (e, text)
    } catch {
      return (MPError(.value, "not an MPError: \(error)"), "not an MPError: \(error)")
    }
    return nil
  }

  final class LineBox { var lines: [String] = [] }
}
