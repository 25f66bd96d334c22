import CMPShim
import Glibc
import MPLanguage

/// Processes: spawn forks a child that runs `f(args...)` and sends its
/// result back over a pipe; join drains that pipe, reaps the child and
/// decodes what it sent.
public enum Runtime {
  /// This process's own children, in start order.
  nonisolated(unsafe) static var children: [ProcessHandle] = []
  /// In a child: the write end of its result pipe (closed in its own children).
  nonisolated(unsafe) static var resultFd: Int32 = -1
  nonisolated(unsafe) static var maxProcs = 256
  nonisolated(unsafe) public private(set) static var isChild = false
  /// The REPL sets this: children get their own process group, so Ctrl-C at
  /// the terminal reaches only the REPL, which decides what to stop.
  nonisolated(unsafe) public static var isolateChildrenFromTerminal = false
  nonisolated(unsafe) static var installed = false
  /// The function this process runs ("main" in the main process).
  nonisolated(unsafe) static var myName = "main" {
    didSet { myNameBytes = Array(myName.utf8.prefix(LockHandle.nameLen - 1).map { CChar(bitPattern: $0) }) + [0] }
  }
  /// `myName` as a C string, made once: locks record their holder's name
  /// on every acquire.
  nonisolated(unsafe) static var myNameBytes: [CChar] = Array("main".utf8.map { CChar(bitPattern: $0) }) + [0]
  /// This process's id, cached: getpid() is a system call, and locks ask on
  /// every acquire and release.
  nonisolated(unsafe) public static var myPid: Int32 = getpid()

  /// Maps the arena, registers the built-ins and the end-of-program and
  /// interrupt hooks. Call once, before the first Interpreter is made.
  public static func install(arenaSize: Int = 1 << 30) throws {
    guard !installed else { return }
    installed = true
    _ = Glibc.signal(SIGPIPE, SIG_IGN)
    maxProcs = try maxProcsSetting(default: maxProcs)
    Arena.shared = try Arena(size: arenaSize)
    ProcessTable.mySlot = ProcessTable.register(pid: getpid(), ppid: getppid(), name: "main")
    registerBuiltins()
    registerSyncBuiltins()
    nameBuiltinParameters()
    Interpreter.atScriptEnd.append { _ in try waitForChildren() }
    Interpreter.atInterrupt.append { _ in killChildren() }
  }

  // MARK: spawn

  static func spawn(_ f: Value, _ args: [Value], _ interp: Interpreter) throws -> ProcessHandle {
    let name: String
    switch f {
    case .function(let c): name = c.proto.name
    case .builtin(let b): name = b.name
    default: throw MPError("type", "spawn() needs a function to run, found \(f.typeName)")
    }
    return try forkChild(name: name, interp) { runChild(f, args, interp) }
  }

  /// Forks a child that runs `body` and never returns into the caller's
  /// frames. Checks MP_MAX_PROCS, sets up the result pipe, registers the
  /// child in the process table and in this process's children.
  static func forkChild(name: String, _ interp: Interpreter, _ body: () -> Never) throws -> ProcessHandle {
    let live = mp_atomic_add(Arena.shared.word(Arena.liveOffset), 1)
    if live > maxProcs {
      mp_atomic_add(Arena.shared.word(Arena.liveOffset), -1)
      throw MPError("process", "too many processes: MP_MAX_PROCS is \(maxProcs) and \(live - 1) are alive (join some first, or raise MP_MAX_PROCS)")
    }
    var fds: [Int32] = [0, 0]
    guard mp_pipe_cloexec(&fds) == 0 else {
      mp_atomic_add(Arena.shared.word(Arena.liveOffset), -1)
      throw MPError("process", "cannot create a pipe for the child: \(String(cString: strerror(errno)))")
    }
    let parent = getpid()
    let counted = SharedHandle.countChildIn()
    Random.shared.willFork()
    let pid = fork()
    if pid < 0 {
      let err = errno
      for off in counted { SharedHandle.release(off) }
      close(fds[0])
      close(fds[1])
      mp_atomic_add(Arena.shared.word(Arena.liveOffset), -1)
      throw MPError("process", "fork failed: \(String(cString: strerror(err)))")
    }
    if pid == 0 {
      close(fds[0])
      becomeChild(parent: parent, resultFd: fds[1], name: name)
      body()
    }
    close(fds[1])
    // The parent registers the child, so it is in the table (for kill(),
    // ps() and deadlock checks) from the moment spawn returns.
    ProcessTable.register(pid: pid, ppid: parent, name: name)
    let h = ProcessHandle(pid: pid, name: name, fd: fds[0], isOwnChild: true)
    children.append(h)
    interp.processesStarted += 1
    return h
  }

  /// Sends a child's outcome to its parent and ends the process.
  static func finishChild(payload: [UInt8], code: Int32) -> Never {
    writeAllBytes(resultFd, payload)
    SharedHandle.countProcessOut()
    _exit(code)
  }

  /// Runs in the child right after fork: forget the parent's children,
  /// die with the parent, get fresh random numbers.
  static func becomeChild(parent: pid_t, resultFd fd: Int32, name: String) {
    isChild = true
    myPid = getpid()
    quietRuntimeTraces()
    for c in children where c.fd >= 0 { close(c.fd) }
    children = []
    // The parent's pools are the parent's: this process must not close them.
    PoolHandle.open = [:]
    if resultFd >= 0 { close(resultFd) }
    resultFd = fd
    _ = mp_set_pdeathsig(SIGKILL)
    // The parent may have died before prctl took effect.
    if getppid() != parent { _exit(1) }
    if isolateChildrenFromTerminal { setpgid(0, 0) }
    Random.shared.reseedForChild()
    myName = name
    ProcessTable.mySlot = -1  // found lazily: the parent registers this process
  }

  /// The child's whole life after fork: run, wait for its own children,
  /// send the outcome, leave with `_exit` (never returning into the
  /// parent's frames or running its exit handlers).
  static func runChild(_ f: Value, _ args: [Value], _ interp: Interpreter) -> Never {
    var payload: [UInt8]
    var code: Int32 = 0
    do {
      let v = try interp.call(f, args)
      // Encoded after its tag byte in one buffer: a big result is not copied again.
      var e = Codec.Encoder()
      e.byte(0)
      try e.value(v)
      payload = e.bytes
    } catch let e as MPError {
      payload = [1] + encodeError(e)
      code = 1
    } catch let x as ExitRequest {
      payload = [2]
      code = x.code
    } catch {
      payload = [1] + encodeError(MPError("process", "\(error)"))
      code = 1
    }
    do {
      try waitForChildren()
    } catch {}
    finishChild(payload: payload, code: code)
  }

  static func encodeError(_ e: MPError) -> [UInt8] {
    var enc = Codec.Encoder()
    enc.string(e.kind)
    enc.string(e.message)
    if let l = e.loc {
      enc.byte(1)
      enc.string(l.file)
      enc.varint(l.line)
      enc.varint(l.column)
    } else {
      enc.byte(0)
    }
    enc.varint(e.trace.count)
    for t in e.trace {
      enc.string(t.function)
      enc.string(t.loc.file)
      enc.varint(t.loc.line)
      enc.varint(t.loc.column)
    }
    if let v = e.value, (try? enc.value(v)) != nil {} else { enc.byte(0) }
    return enc.bytes
  }

  static func decodeError(_ bytes: ArraySlice<UInt8>) throws -> MPError {
    var d = Codec.Decoder(Array(bytes))
    let kind = try d.string(), message = try d.string()
    var e = MPError(kind, message)
    if try d.byte() == 1 {
      e.loc = SourceLocation(file: try d.string(), line: try d.varint(), column: try d.varint())
    }
    let n = try d.varint()
    for _ in 0..<max(0, min(n, 10_000)) {
      let fn = try d.string()
      e.trace.append(.init(function: fn, loc: SourceLocation(file: try d.string(), line: try d.varint(), column: try d.varint())))
    }
    let v = try d.value()
    if case .nil = v {} else { e.value = v }
    return e
  }
}
