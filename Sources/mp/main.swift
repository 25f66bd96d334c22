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

  @Flag(name: .long, help: "Record what every process does and draw a timeline to stderr at the end.")
  var trace = false

  @Option(name: .customLong("trace-out"), help: "Record what every process does and write it as Chrome trace-event JSON (Perfetto, chrome://tracing) to FILE.")
  var traceOut: String?

  @Argument(help: "The script to run ('-' reads it from stdin).")
  var file: String?

  @Argument(parsing: .captureForPassthrough, help: "Arguments for the script, in the global list 'argv'.")
  var args: [String] = []

  func run() throws {
    try Runner(eval: eval, time: time, trace: trace, traceOut: traceOut, file: file, args: args).run()
  }
}

/// What `mp` does once its command line is understood.
struct Runner {
  var eval: String?
  var time = false
  var trace = false
  var traceOut: String?
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
    Runtime.registerDebugBuiltinsIfAsked()
    // A script's memory running out gives one line, not a stack trace
    // (the REPL writes prompts through stdio's stderr: not there).
    if file != nil || eval != nil { Runtime.quietRuntimeTraces() }
    let interp = Interpreter(mainFile: file ?? "<main>")
    interp.argv = args
    let mark = time ? Timing.start(interp) : nil
    defer { if let mark { Timing.report(mark, interp) } }
    if trace || traceOut != nil { Runtime.startTracing() }
    defer { if trace || traceOut != nil { finishTrace() } }
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
      Repl.runtime.beforePrompt = {
        Runtime.markStatementStart()
        return Runtime.newBackgroundFailures()
      }
      Repl.runtime.traceStart = { Runtime.startTracing() }
      Repl.runtime.traceStop = { width, color in Timeline.render(Runtime.stopTracing(), width: width, color: color) }
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
      switch SourceFile.read(file) {
      case .success(let s): source = s
      case .failure(let why):
        writeAll(2, "mp: cannot read '\(file)': \(why.reason)\n")
        throw ExitCode(2)
      }
    }
    try finish(interp) { try interp.runMain(source: source, file: file == "-" ? "<stdin>" : file) }
  }

  /// `--trace`: the timeline to stderr; `--trace-out FILE`: the JSON.
  func finishTrace() {
    let model = Runtime.stopTracing()
    if trace {
      writeAll(2, Timeline.render(model, width: Runtime.terminalWidth(2), color: isatty(2) != 0))
    }
    if let path = traceOut {
      let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
      if fd < 0 {
        writeAll(2, "mp: cannot write the trace to '\(path)': \(String(cString: strerror(errno)))\n")
      } else {
        writeAll(fd, ChromeTrace.json(model))
        close(fd)
      }
    }
  }

  /// Maps how a program ended to the exit codes of docs/reference.md,
  /// "Command line".
  func finish(_ interp: Interpreter, _ body: () throws -> Void) throws {
    do {
      try body()
    } catch let e as MPError {
      writeAll(2, e.render(color: isatty(2) != 0))
      reportErrorKindForTest(e.kind.rawValue)
      if e.kind == .interrupt { throw ExitCode(130) }
      // Like Python: the error is shown at once, then children still
      // running are waited for before the program ends — saying so, and
      // what they wait on, since nothing else would (docs/reference.md,
      // "Deadlock detection").
      if let waiting = Runtime.childrenReport() {
        writeAll(2, "mp: the program failed; waiting for its child processes to end (Ctrl-C stops them):\n\(waiting)\n")
      }
      do {
        try interp.runScriptEnd()
      } catch let later as MPError {
        writeAll(2, later.render(color: isatty(2) != 0))
        if later.kind == .interrupt { throw ExitCode(130) }
      } catch {}
      throw ExitCode(e.kind == .syntax ? 2 : 1)
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
    runParsed(TestCommand.self, Array(argv.dropFirst()), as: "mp test")
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
    runParsed(MPCommand.self, argv)
  }
}

/// Parses and runs a command; a bad command line exits 2 with the error and
/// a usage line (the exit codes of docs/reference.md: 2 for a bad command
/// line, as for a syntax error), where swift-argument-parser would exit 64.
func runParsed<C: ParsableCommand>(_ type: C.Type, _ argv: [String], as name: String = "mp") {
  do {
    var command = try type.parseAsRoot(argv)
    try command.run()
  } catch {
    if type.exitCode(for: error) == .validationFailure {
      var message = type.fullMessage(for: error)
      if !message.contains("Usage:") { message += "\n" + type.usageString() }
      // `mp test` is parsed as a command of its own: name it as typed.
      if name != C._commandName {
        message = message.replacing("Usage: \(C._commandName)", with: "Usage: \(name)")
          .replacing("'\(C._commandName) --help'", with: "'\(name) --help'")
      }
      writeAll(2, message.hasSuffix("\n") ? message : message + "\n")
      exit(2)
    }
    type.exit(withError: error)
  }
}
// Small blocks from its own allocator (CMPShim/alloc.c): mp never starts a thread.
mp_fast_alloc_enable()
mp_run_on_stack(1 << 30, entry, nil)
