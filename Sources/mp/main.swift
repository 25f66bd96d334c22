import ArgumentParser
import CMPShim
import Glibc
import MPLanguage
import MPRepl
import MPRuntime

/// `mp`: the REPL; `mp FILE [args...]`: run a script; `mp -e CODE`;
/// `mp -`: a script from stdin; `mp test [PATHS...]`.
struct MPCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "mp",
    abstract: "A scripting language and REPL for experimenting with concurrency.",
    discussion: """
      With no FILE, starts the REPL (statements from stdin when it is not a terminal).
      'mp test [PATHS...]' runs .mp files and checks their '# expect' comments.
      """,
    version: mpVersion)

  @Option(name: [.customShort("e"), .long], help: "Run CODE and exit.")
  var eval: String?

  @Flag(name: .long, help: "Print a timing line (wall, CPU, children, processes) to stderr at the end.")
  var time = false

  @Argument(help: "The script to run ('-' reads it from stdin).")
  var file: String?

  @Argument(parsing: .captureForPassthrough, help: "Arguments for the script, in the global list 'argv'.")
  var args: [String] = []

  func run() throws {
    try Runner(eval: eval, time: time, file: file, args: args).run()
  }
}

/// What `mp` does once its command line is understood.
struct Runner {
  var eval: String?
  var time = false
  var file: String?
  var args: [String] = []

  func run() throws {
    mp_install_sigint()
    do {
      try Runtime.install()
    } catch let e as MPError {
      writeAll(2, e.render())
      throw ExitCode(1)
    }
    TimeoutDump.installIfAsked()
    let interp = Interpreter(mainFile: file ?? "<main>")
    interp.argv = args
    let mark = Timing.start(interp)
    defer { if time { Timing.report(mark, interp) } }
    if let code = eval {
      try finish(interp) { try interp.runMain(source: code, file: "<-e>") }
      return
    }
    guard let file else {
      if isatty(0) != 0 {
        // Ctrl-C at the terminal reaches only the REPL, which stops what
        // the running statement started and leaves background work alone.
        Runtime.isolateChildrenFromTerminal = true
      }
      Repl.runtime.beforePrompt = { Runtime.markStatementStart() }
      Repl.runtime.killAll = { _ in Runtime.killAllChildren() }
      let status = Repl.run(interp)
      if status != 0 { throw ExitCode(status) }
      return
    }
    let source: String
    if file == "-" {
      var text = ""
      while let line = readLine(strippingNewline: false) { text += line }
      source = text
    } else {
      guard let s = Interpreter.readFile(file) else {
        writeAll(2, "mp: cannot read '\(file)': \(String(cString: strerror(errno == 0 ? ENOENT : errno)))\n")
        throw ExitCode(2)
      }
      source = s
    }
    try finish(interp) { try interp.runMain(source: source, file: file == "-" ? "<stdin>" : file) }
  }

  /// Maps how a program ended to the exit codes of docs/reference.md,
  /// "Command line".
  func finish(_ interp: Interpreter, _ body: () throws -> Void) throws {
    do {
      try body()
    } catch let e as MPError {
      writeAll(2, e.render(color: isatty(2) != 0))
      reportErrorKindForTest(e.kind)
      if e.kind == "interrupt" { throw ExitCode(130) }
      // Like Python: the error is shown at once, then children still
      // running are waited for before the program ends.
      try? interp.runScriptEnd()
      throw ExitCode(e.kind == "syntax" ? 2 : 1)
    } catch let x as ExitRequest {
      try? interp.runScriptEnd()
      throw ExitCode(x.code)
    }
  }
}

let mpVersion = "0.1.0"

/// Everything runs on a 1 GiB stack mapped lazily: deep recursion in mp
/// code and very long expressions stay far from its end, and the
/// interpreter's byte bound turns the rest into "recursion" errors.
let entry: @convention(c) (UnsafeMutableRawPointer?) -> Void = { _ in
  Parser.maxChainLength = 100_000
  let argv = Array(CommandLine.arguments.dropFirst())
  if argv.first == "test" {
    TestCommand.main(Array(argv.dropFirst()))
  } else if let first = argv.first, !first.hasPrefix("-") || (argv.count == 2 && first == "-e" && !argv[1].hasPrefix("-")) {
    // `mp FILE [args...]` (everything after FILE is the script's) and
    // `mp -e CODE` mean exactly that: run them without swift-argument-parser,
    // whose run-time conformance lookups were half of the start-up.
    let runner = first == "-e" ? Runner(eval: argv[1]) : Runner(file: first, args: Array(argv.dropFirst()))
    do {
      try runner.run()
    } catch let e as ExitCode {
      exit(e.rawValue)
    } catch {
      MPCommand.exit(withError: error)
    }
  } else {
    MPCommand.main(argv)
  }
}
mp_run_on_stack(1 << 30, entry, nil)
