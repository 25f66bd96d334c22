import CMPShim
import Glibc

/// Runs mp programs: scripts, REPL entries, imported modules.
///
/// One interpreter per process. It is single-threaded by design: the
/// runtime forks it, and a forked child carries on with a copy of it.
public final class Interpreter {
  let vm: UnsafeMutablePointer<VMState>
  /// The script given to `mp` (or the REPL's session).
  public private(set) var main: ModuleScope
  private var modules: [String: ModuleScope] = [:]
  /// Wrappers compiled for functions received from other processes.
  var revived: [String: Value] = [:]

  /// The loaded module for a file (the main script included).
  func moduleNamed(file: String) -> ModuleScope? {
    if main.file == file { return main }
    return modules[file]
  }
  /// Called with each bare expression's value at the top level when echoing (REPL).
  public var echo: ((Value) -> Void)? = nil
  /// Arguments after the script name.
  public var argv: [String] = []
  /// Where the running built-in or handle method was called from: the
  /// runtime points a child's or pool item's errors at the `spawn` or `map`
  /// call that started it. Unretained: locations live as long as the code.
  @exclusivity(unchecked) public internal(set) unowned(unsafe) var callSite: SourceLocation = noLoc

  /// Small functions run as bytecode (Values/Bytecode.swift) unless
  /// `MP_BYTECODE=0` (docs/reference.md): the closure compiler then runs
  /// everything, which tests use to compare the two.
  var usesBytecode: Bool = {
    guard let v = getenv("MP_BYTECODE") else { return true }
    return String(cString: v) != "0"
  }()

  /// The interpreter of this process (there is one).
  nonisolated(unsafe) public static var current: Interpreter? = nil

  /// Built-ins every module starts with. The runtime adds its own before the
  /// first interpreter is made.
  nonisolated(unsafe) public static var builtins: [String: Builtin] = [:]
  /// Hooks the runtime installs: run at the end of a script (wait for children).
  nonisolated(unsafe) public static var atScriptEnd: [(Interpreter) throws -> Void] = []
  /// Hooks the runtime installs: run when Ctrl-C stops a program or a REPL
  /// statement (kill the processes it started).
  nonisolated(unsafe) public static var atInterrupt: [(Interpreter) -> Void] = []

  public init(mainFile: String = "<main>") {
    vm = Interpreter.makeVM()
    Interpreter.registerCoreBuiltins()
    Interpreter.current = nil
    main = ModuleScope(name: "__main__", file: mainFile)
    installBuiltins(main)
    Interpreter.current = self
  }

  /// The number of processes started so far (the runtime counts them).
  public var processesStarted: Int {
    get { vm.pointee.processesStarted }
    set { vm.pointee.processesStarted = newValue }
  }

  /// Bounds every later run to about `n` loop iterations and calls (0: no bound).
  public func setStepLimit(_ n: Int) {
    vm.pointee.stepsLeft = n > 0 ? n : Int.max
    restoreCallLimit()
  }

  /// Current call depth (0 at top level); the runtime uses it to know a
  /// forked child starts fresh.
  public var callDepth: Int { vm.pointee.depth }

  private func installBuiltins(_ m: ModuleScope) {
    for (name, b) in Interpreter.builtins { m.set(name, .builtin(b)) }
    m.set("argv", .list(ListRef(argv.map { .str($0) })))
  }

  /// Starts a fresh main module (the REPL's `:reset`).
  public func reset() {
    main = ModuleScope(name: "__main__", file: main.file)
    installBuiltins(main)
    modules = [:]
  }

  /// Parses, resolves and compiles `source` for `module`.
  func compile(_ source: String, file: String, module: ModuleScope, echo: Bool, firstLine: Int = 1) throws -> (StmtCode, Int) {
    let source = Lexer.withoutByteOrderMark(source)
    SourceRegistry.shared.register(file: file, text: source, firstLine: firstLine)
    let stmts = try Parser.parse(source, file: file, firstLine: firstLine)
    var r = Resolver()
    r.resolveProgram(stmts)
    var c = Compiler(interp: self, module: module, echo: echo)
    let code = try c.compileTopLevel(stmts)
    return (code, r.topLevelFrameSize)
  }

  /// Checks that `source` parses; the REPL uses `isIncomplete` to keep reading.
  public static func check(_ source: String, file: String, firstLine: Int = 1) throws {
    _ = try Parser.parse(source, file: file, firstLine: firstLine)
  }

  /// Runs a chunk of top-level code in `module`.
  func runTopLevel(_ code: StmtCode, frameSize: Int) throws {
    let base = vm.pointee.sp
    guard base + frameSize <= vm.pointee.stackEnd else {
      throw MPError(.recursion, "recursion depth exceeded (value stack full)")
    }
    base.initialize(repeating: .nil, count: frameSize)
    vm.pointee.sp = base + frameSize
    defer {
      base.deinitialize(count: frameSize)
      vm.pointee.sp = base
    }
    do {
      _ = try code(base)
    } catch var e as MPError {
      if !e.trace.isEmpty, let l = e.pendingLoc {
        e.addTrace(.init(function: "<top level>", loc: l))
        e.pendingLoc = nil
      }
      throw e
    }
  }

  /// Runs a script file as the main program: its top level, then `main()`
  /// if it defines one, then whatever the runtime waits for at the end.
  public func runMain(source: String, file: String) throws {
    main = ModuleScope(name: "__main__", file: file)
    installBuiltins(main)
    let (code, size) = try compile(source, file: file, module: main, echo: false)
    do {
      try runTopLevel(code, frameSize: size)
      if case .function(let f)? = main.get("main"), f.proto.module === main {
        _ = try call(.function(f), [], at: f.proto.loc)
      }
    } catch let e as MPError where e.kind == .interrupt {
      runInterruptHooks()
      throw e
    }
    // On an error the caller reports it first, then calls runScriptEnd().
    try runScriptEnd()
  }

  public func runInterruptHooks() {
    for hook in Interpreter.atInterrupt { hook(self) }
  }

  public func runScriptEnd() throws {
    for hook in Interpreter.atScriptEnd { try hook(self) }
  }

  /// Runs one REPL entry (or a chunk of `mp -e`) in the main module,
  /// keeping every binding made before.
  /// `firstLine` numbers the entry's lines as part of a longer session.
  public func runEntry(_ source: String, file: String = "<repl>", firstLine: Int = 1) throws {
    let (code, size) = try compile(source, file: file, module: main, echo: echo != nil, firstLine: firstLine)
    try runTopLevel(code, frameSize: size)
  }

  /// `import "path"`: runs the file once and returns its module.
  func importModule(_ path: String, from file: String, at loc: SourceLocation) throws -> ModuleScope {
    var full = path
    if !path.hasPrefix("/") {
      let dir = file.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
      if !dir.isEmpty && !file.hasPrefix("<") { full = dir + "/" + path }
    }
    let key = Interpreter.normalize(full)
    if let m = modules[key] { return m }
    let text: String
    switch SourceFile.read(key) {
    case .success(let t): text = t
    case .failure(let why) where why.isMissing:
      throw MPError(.`import`, "cannot import '\(path)': no such file (looked for \(key))", at: loc)
    case .failure(let why):
      throw MPError(.`import`, "cannot import '\(path)': \(key): \(why.reason)", at: loc)
    }
    var name = String(key.split(separator: "/").last ?? "")
    if name.hasSuffix(".mp") { name.removeLast(3) }
    let m = ModuleScope(name: name, file: key)
    installBuiltins(m)
    modules[key] = m
    m.isLoading = true
    defer { m.isLoading = false }
    do {
      let (code, size) = try compile(text, file: key, module: m, echo: false)
      try runTopLevel(code, frameSize: size)
    } catch var e as MPError {
      modules[key] = nil
      if e.kind == .syntax {
        e.message = "in imported file: \(e.message)"
      }
      throw e
    }
    return m
  }

  static func normalize(_ path: String) -> String {
    var parts: [Substring] = []
    for p in path.split(separator: "/", omittingEmptySubsequences: true) {
      if p == "." { continue }
      if p == "..", let last = parts.last, last != ".." { parts.removeLast(); continue }
      parts.append(p)
    }
    return (path.hasPrefix("/") ? "/" : "") + parts.joined(separator: "/")
  }

  /// Reads a whole file, or nil if it cannot be read.
  public func readFile(_ path: String) -> String? { Interpreter.readFile(path) }

  public static func readFile(_ path: String) -> String? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var st = stat()
    guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
    var bytes: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 65536)
    while true {
      let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, 65536) }
      if n < 0 {
        if errno == EINTR { continue }
        return nil
      }
      if n == 0 { break }
      bytes.append(contentsOf: buf[0..<n])
    }
    return String(decoding: bytes, as: UTF8.self)
  }
}
