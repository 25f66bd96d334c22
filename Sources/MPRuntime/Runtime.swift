import CMPShim
import Glibc
import MPLanguage

/// Processes, the child's side: spawn forks a child that runs `f(args...)`
/// and sends its outcome (ChildOutcome) back over a pipe. The parent's
/// side — join, reaping, the end of the program — is in Join.swift.
///
/// A value's way from `spawn` to `join`: `spawn` → `forkOrNil` (here) →
/// `runChild` in the child → `ChildOutcome.encoded` → the pipe →
/// `Runtime.join` → `waitForEnd` / `childEnded` → `ChildOutcome.decode`.
public enum Runtime {
  /// This process's own children, in start order, until joined (or, for
  /// ones that ended well and were never joined, until reaped).
  // Unchecked (as every static a child touches between fork and exit): a
  // dynamic exclusivity check runs code, and touches pages, that the
  // child otherwise never needs (each a page fault in a fresh child).
  @exclusivity(unchecked) nonisolated(unsafe) static var children: [ProcessHandle] = []
  /// In a child: the write end of its result pipe (closed in its own children).
  @exclusivity(unchecked) nonisolated(unsafe) static var resultFd: Int32 = -1
  nonisolated(unsafe) static var maxProcs = 256
  @exclusivity(unchecked) nonisolated(unsafe) public private(set) static var isChild = false
  /// The REPL sets this: children get their own process group, so Ctrl-C at
  /// the terminal reaches only the REPL, which decides what to stop.
  @exclusivity(unchecked) nonisolated(unsafe) public static var isolateChildrenFromTerminal = false
  nonisolated(unsafe) static var installed = false
  /// The function this process runs ("main" in the main process).
  @exclusivity(unchecked) nonisolated(unsafe) static var myName = "main" {
    // Cleared only when made: a page written in every child is a fault.
    didSet { if madeNameBytes != nil { madeNameBytes = nil } }
  }
  /// `myName` as a C string, made once (when a lock first needs it, not in
  /// every child): locks record their holder's name on every acquire.
  static var myNameBytes: [CChar] {
    if let b = madeNameBytes { return b }
    let b = Array(myName.utf8.prefix(LockHandle.nameLen - 1).map { CChar(bitPattern: $0) }) + [0]
    madeNameBytes = b
    return b
  }
  @exclusivity(unchecked) nonisolated(unsafe) static var madeNameBytes: [CChar]? = nil
  /// Whether this process ever forked: a child that did not has no
  /// children of its own to reap at its end.
  @exclusivity(unchecked) nonisolated(unsafe) static var forkedAny = false
  /// This process's id, cached: getpid() is a system call, and locks ask on
  /// every acquire and release. Set by `install` and in every child; a
  /// constant first value, so reading it needs no lazy-initialisation check.
  @exclusivity(unchecked) nonisolated(unsafe) public static var myPid: Int32 = 0

  /// Maps the arena, registers the built-ins and the end-of-program and
  /// interrupt hooks. Call once, before the first Interpreter is made.
  public static func install(arenaSize: Int = 1 << 30) throws {
    guard !installed else { return }
    installed = true
    myPid = getpid()
    _ = Glibc.signal(SIGPIPE, SIG_IGN)
    // What a child runs between fork and exit is made ready here, once:
    // lazily made globals made (mp is linked statically: no library call
    // is bound lazily).
    _ = PoolHandle.open.isEmpty
    _ = SharedHandle.live.isEmpty
    _ = LockHandle.holds
    _ = WaitGraph.poolQueues.isEmpty
    _ = ObjectIdentifier(SourceLocation.self)
    _ = ProcessRefs.crossedOut.isEmpty
    _ = ChildOutcome.value(.int(0)).encoded()
    maxProcs = try maxProcsSetting(default: maxProcs)
    var arenaSize = arenaSize
    // A smaller (or larger) arena, for experiments and for tests that fill it.
    if let s = getenv("MP_ARENA_MB") {
      guard let n = Int(String(cString: s)), n >= 16, n <= 1 << 20 else {
        throw MPError(.value, "MP_ARENA_MB must be a number of MiB from 16 to 1048576, found '\(String(cString: s))'")
      }
      arenaSize = n << 20
    }
    Arena.shared = try Arena(size: arenaSize)
    // Lines longer than PIPE_BUF go out under one lock for every process.
    longWriteLock = (
      lock: { _ = try? Arena.shared.outputMutex.lock("the output lock", interruptible: false) },
      unlock: { Arena.shared.outputMutex.unlock() }
    )
    Trace.install()
    Timing.liveCPU = {
      reapLeaving()
      return liveProcessCPU()
    }
    ProcessTable.mySlot = ProcessTable.register(pid: getpid(), ppid: getppid(), name: "main")
    // Descendants whose parent died come to the main process, which reaps
    // them and gives back what they held.
    _ = mp_set_child_subreaper()
    registerBuiltins()
    registerSyncBuiltins()
    registerSeeingBuiltins()
    nameBuiltinParameters()
    Interpreter.atScriptEnd.append { _ in try waitForChildren() }
    Interpreter.atInterrupt.append { _ in killChildren() }
  }

  // MARK: spawn

  /// `spawn(f, args..., name=, daemon=)`: `name` defaults to the
  /// function's; a daemon is killed when its parent's program ends instead
  /// of being waited for.
  static func spawn(_ f: Value, _ args: [Value], _ interp: Interpreter, name given: String? = nil,
                    daemon: Bool = false) throws -> ProcessHandle {
    let site = interp.callSite
    var name: String
    switch f {
    case .function(let c): name = c.proto.name
    case .builtin(let b): name = b.name
    default: throw MPError(.type, "spawn() needs a function to run, found \(f.typeName)")
    }
    if let given { name = given }
    // As Python's start() does: children that ended are reaped first, so
    // fire-and-forget children leave no zombies and count no more.
    reapFinished()
    // The child runs the function from here: a closure holding f, args and
    // site had copies retained before the fork and released in the child
    // (a page written, so copied, for each).
    guard let h = try forkOrNil(name: name, interp) else { runChild(f, args, interp, site: site) }
    h.isDaemon = daemon
    return h
  }

  /// Forks a child that runs `body` and never returns into the caller's
  /// frames.
  static func forkChild(name: String, _ interp: Interpreter, _ body: () -> Never) throws -> ProcessHandle {
    guard let h = try forkOrNil(name: name, interp) else { body() }
    return h
  }

  /// Forks: the child's handle in the parent, nil in the child, which runs
  /// its function and leaves (finishChild) without returning further.
  /// Checks MP_MAX_PROCS, sets up the result pipe, counts the child in for
  /// every shared object it inherits, registers it in the process table
  /// and in this process's children.
  static func forkOrNil(name: String, _ interp: Interpreter) throws -> ProcessHandle? {
    let liveWord = Arena.shared.word(Arena.liveOffset)
    var live = mp_atomic_add(liveWord, 1)
    if live > maxProcs && !leaving.isEmpty {
      // Joined children still leaving count until reaped: wait for them.
      mp_atomic_add(liveWord, -1)
      reapLeaving()
      live = mp_atomic_add(liveWord, 1)
    }
    if live > maxProcs {
      mp_atomic_add(liveWord, -1)
      throw MPError(.process, "too many processes: MP_MAX_PROCS is \(maxProcs) and \(live - 1) are alive (join some first, or raise MP_MAX_PROCS)")
    }
    // Two ints on the stack (an array was an object made, and released in
    // the child: a page written).
    var fds: (Int32, Int32) = (0, 0)
    guard withUnsafeMutableBytes(of: &fds, { mp_pipe_cloexec($0.baseAddress!.assumingMemoryBound(to: Int32.self)) }) == 0 else {
      let err = errno
      mp_atomic_add(liveWord, -1)
      throw MPError(.process, "cannot create a pipe for the child: \(String(cString: strerror(err)))")
    }
    let record: SharedHandle.ChildRecord
    do {
      record = try SharedHandle.countChildIn()
    } catch {
      close(fds.0)
      close(fds.1)
      mp_atomic_add(liveWord, -1)
      throw error
    }
    let parent = myPid
    let serial = Arena.shared.nextId()
    Random.shared.willFork()
    fflush(nil)
    forkedAny = true
    let pid = fork()
    if pid < 0 {
      let err = errno
      SharedHandle.undo(record)
      close(fds.0)
      close(fds.1)
      mp_atomic_add(liveWord, -1)
      throw MPError(.process, "fork failed: \(String(cString: strerror(err)))")
    }
    if pid == 0 {
      close(fds.0)
      mySerial = serial
      becomeChild(parent: parent, resultFd: fds.1, name: name, record: record)
      return nil
    }
    close(fds.1)
    // The parent registers the child, so it is in the table (for kill(),
    // ps() and deadlock checks) from the moment spawn returns, and its
    // reaper finds there what it holds.
    ProcessTable.register(pid: pid, ppid: parent, name: name, refs: record.first, serial: serial)
    if Trace.isOn { Trace.record(.spawn, object: Int(pid)) }
    let h = ProcessHandle(pid: pid, name: name, serial: serial, fd: fds.0, owner: parent)
    children.append(h)
    interp.processesStarted += 1
    return h
  }

  /// Sends a child's outcome to its parent and ends the process.
  static func finishChild(_ outcome: ChildOutcome) -> Never {
    if Trace.isOn { Trace.record(.processEnd, arg: Int(outcome.exitCode)) }
    if var short = outcome.twoBytes {
      SharedHandle.countProcessOut()
      _ = withUnsafeBytes(of: &short) { mp_write_framed(resultFd, $0.baseAddress, 2) }
      mp_exit_now(outcome.exitCode)
    }
    let message = outcome.encoded()
    // Counts given back before the result goes: once its parent has the
    // whole result, join returns while this process is still leaving.
    SharedHandle.countProcessOut()
    message.withUnsafeBytes { _ = mp_write_framed(resultFd, $0.baseAddress, $0.count) }
    mp_exit_now(outcome.exitCode)
  }

  /// Runs in the child right after fork: forget the parent's children,
  /// die with the parent, get fresh random numbers.
  static func becomeChild(parent: pid_t, resultFd fd: Int32, name: String, record: SharedHandle.ChildRecord) {
    isChild = true
    myPid = getpid()
    forkedAny = false
    quietRuntimeTraces()
    for c in children where c.fd >= 0 { close(c.fd) }
    if !children.isEmpty { children = [] }
    // The parent's pools are the parent's: this process must not close them.
    // (Emptied only when not empty: code a child does not run is a page
    // it does not fault in.)
    if !PoolHandle.open.isEmpty { PoolHandle.open = [:] }
    // Its names for their queues too: this process would keep them after
    // the parent closed a pool and the block went to a queue of the user's.
    if !WaitGraph.poolQueues.isEmpty { WaitGraph.poolQueues = [:] }
    // The parent's locks are held by the parent, not by this copy of it.
    LockHandle.holds.removeAll()
    SharedHandle.adopt(record)
    if resultFd >= 0 { close(resultFd) }
    resultFd = fd
    _ = mp_set_pdeathsig(SIGKILL)
    // The parent may have died before prctl took effect.
    if getppid() != parent { mp_exit_now(1) }
    if isolateChildrenFromTerminal { setpgid(0, 0) }
    Random.shared.reseedForChild(pid: myPid, serial: mySerial)
    myName = name
    ProcessTable.forget()  // found lazily: the parent registers this process
    // A trace needs this process's entry from its first event.
    if Trace.isOn { ProcessTable.awaitRegistration() }
  }

  /// The child's whole life after fork: run, wait for its own children,
  /// send the outcome, leave with `_exit` (never returning into the
  /// parent's frames or running its exit handlers). An error raised
  /// before any of `f`'s code ran (a wrong number of arguments) points at
  /// the `spawn` call.
  static func runChild(_ f: Value, _ args: [Value], _ interp: Interpreter, site: SourceLocation) -> Never {
    var outcome: ChildOutcome
    do {
      outcome = .value(try interp.call(f, args))
    } catch let e as MPError {
      outcome = .error(e.pointed(at: site))
    } catch let x as ExitRequest {
      outcome = .exit(x.code)
    } catch {
      outcome = .error(MPError(.process, "\(error)", at: site))
    }
    if forkedAny || !children.isEmpty {
      do {
        try waitForChildren()
      } catch {}
    }
    finishChild(outcome)
  }
}

extension MPError {
  /// This error, located at `site` if it has no real location of its own.
  func pointed(at site: SourceLocation) -> MPError {
    if let l = loc, l.line > 0 { return self }
    var e = self
    e.loc = site.line > 0 ? site : nil
    return e
  }
}
