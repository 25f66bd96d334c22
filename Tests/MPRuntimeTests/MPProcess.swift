import Foundation
import Glibc
import MPTestSupport
import XCTest

/// Runs the built `mp` binary on a script in its own process group, so a
/// test can signal it, read its output as it comes, and always kill
/// everything it started (the test process is multi-threaded: it never forks
/// itself, it posix_spawns the binary).
final class MPProcess {
  let pid: pid_t
  let stdoutFd: Int32
  let stderrFd: Int32
  private var outBuffer = ""
  private(set) var errText = ""
  private var status: Int32? = nil
  let scriptPath: String
  /// The script's own temporary directory, removed by `cleanup`.
  let directory: String

  static let root = BuiltBinary.packageRoot()

  /// The `mp` this test run built; a missing binary fails the test.
  static func binary() throws -> String { try BuiltBinary.path() }

  init(script: String, env: [String: String] = [:], flags: [String] = []) throws {
    let dir = NSTemporaryDirectory() + "mp-test-\(getpid())-\(UUID().uuidString.prefix(8))"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    directory = dir
    scriptPath = dir + "/t.mp"
    try script.write(toFile: scriptPath, atomically: true, encoding: .utf8)
    var out: [Int32] = [0, 0], err: [Int32] = [0, 0]
    guard pipe(&out) == 0, pipe(&err) == 0 else { throw POSIXError(.EMFILE) }
    var fa = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&fa)
    defer { posix_spawn_file_actions_destroy(&fa) }
    posix_spawn_file_actions_adddup2(&fa, out[1], 1)
    posix_spawn_file_actions_adddup2(&fa, err[1], 2)
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0)
    for fd in [out[0], out[1], err[0], err[1]] { posix_spawn_file_actions_addclose(&fa, fd) }
    var attr = posix_spawnattr_t()
    posix_spawnattr_init(&attr)
    defer { posix_spawnattr_destroy(&attr) }
    posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    posix_spawnattr_setpgroup(&attr, 0)
    var none = sigset_t()
    sigemptyset(&none)
    posix_spawnattr_setsigmask(&attr, &none)
    var defaults = sigset_t()
    sigemptyset(&defaults)
    sigaddset(&defaults, SIGINT)
    sigaddset(&defaults, SIGPIPE)
    posix_spawnattr_setsigdefault(&attr, &defaults)
    let bin = try MPProcess.binary()
    var environment = ProcessInfo.processInfo.environment
    for (k, v) in env { environment[k] = v }
    let envStrings = environment.map { "\($0.key)=\($0.value)" }
    var cenv: [UnsafeMutablePointer<CChar>?] = envStrings.map { strdup($0) } + [nil]
    var cargs: [UnsafeMutablePointer<CChar>?] = [strdup(bin)] + flags.map { strdup($0) } + [strdup(scriptPath), nil]
    defer {
      for p in cenv { free(p) }
      for p in cargs { free(p) }
    }
    var p: pid_t = 0
    let rc = posix_spawn(&p, bin, &fa, &attr, &cargs, &cenv)
    close(out[1])
    close(err[1])
    guard rc == 0 else {
      close(out[0])
      close(err[0])
      try? FileManager.default.removeItem(atPath: dir)
      throw POSIXError(POSIXErrorCode(rawValue: rc) ?? .EIO)
    }
    pid = p
    stdoutFd = out[0]
    stderrFd = err[0]
    _ = fcntl(stdoutFd, F_SETFL, fcntl(stdoutFd, F_GETFL) | O_NONBLOCK)
    _ = fcntl(stderrFd, F_SETFL, fcntl(stderrFd, F_GETFL) | O_NONBLOCK)
  }

  deinit { cleanup() }

  private var cleanedUp = false

  /// Kills the whole process group and reaps the script's process. Once:
  /// tests call it in a defer and deinit calls it again, and a second
  /// close could hit an fd number opened since, a second kill a reused
  /// process group.
  func cleanup() {
    guard !cleanedUp else { return }
    cleanedUp = true
    kill(-pid, SIGKILL)
    if status == nil {
      var st: Int32 = 0
      if waitpid(pid, &st, 0) == pid { status = st }
    }
    close(stdoutFd)
    close(stderrFd)
    try? FileManager.default.removeItem(atPath: directory)
  }

  private func pump() {
    var buf = [UInt8](repeating: 0, count: 65536)
    for (fd, isOut) in [(stdoutFd, true), (stderrFd, false)] {
      while true {
        let n = read(fd, &buf, buf.count)
        if n == 0 { isOut ? (outEnded = true) : (errEnded = true) }
        if n <= 0 { break }
        let s = String(decoding: buf[0..<n], as: UTF8.self)
        if isOut { outBuffer += s } else { errText += s }
      }
    }
  }

  private var outEnded = false, errEnded = false

  /// Waits up to `ms` milliseconds, returning as soon as output arrives
  /// (a fixed sleep between looks would add its length to every wait).
  private func pause(ms: Int32) {
    var fds: [pollfd] = []
    if !outEnded { fds.append(pollfd(fd: stdoutFd, events: Int16(POLLIN), revents: 0)) }
    if !errEnded { fds.append(pollfd(fd: stderrFd, events: Int16(POLLIN), revents: 0)) }
    if fds.isEmpty {
      usleep(UInt32(ms) * 1000)
    } else {
      _ = poll(&fds, nfds_t(fds.count), ms)
    }
  }

  /// The next stdout line, waiting at most `timeout` seconds.
  func readLine(timeout: Double = 10) -> String? {
    let deadline = Date().addingTimeInterval(timeout)
    while true {
      pump()
      if let nl = outBuffer.firstIndex(of: "\n") {
        let line = String(outBuffer[..<nl])
        outBuffer.removeSubrange(...nl)
        return line
      }
      if Date() > deadline { return nil }
      pause(ms: 10)
    }
  }

  /// The next stdout line, left in place for `readLine`; nil if no whole
  /// line has arrived yet.
  func peekLine() -> String? {
    pump()
    return outBuffer.firstIndex(of: "\n").map { String(outBuffer[..<$0]) }
  }

  /// A gate: the script spawns `sleep` for far longer than any test and
  /// prints its pid, then waits for it (`try { join(gate) } catch e { }`)
  /// or polls `gate.alive`; the test looks at the script from outside
  /// and then opens the gate (SIGKILLs the sleeper). A fixed sleep in the
  /// script would cost its full length on every run and could still be too
  /// short on a loaded machine. This reads the gate's pid line.
  func gatePid(timeout: Double = 30) throws -> pid_t {
    let line = try XCTUnwrap(readLine(timeout: timeout), "no gate pid line; stderr: \(errText)")
    return try XCTUnwrap(pid_t(line), "not a gate pid: \(line); stderr: \(errText)")
  }

  /// Opens a gate (see `gatePid`). The sleeper is the script's child, not
  /// yet joined, so its pid cannot have been reused.
  func openGate(_ gate: pid_t) {
    kill(gate, SIGKILL)
  }

  /// The exit code if the script has ended (reaping it), else nil; reads
  /// what output has come either way. Never waits.
  func exitStatus() -> Int32? {
    pump()
    if status == nil {
      var st: Int32 = 0
      guard waitpid(pid, &st, WNOHANG) == pid else { return nil }
      status = st
      pump()
    }
    let st = status!
    return (st & 0x7f) == 0 ? (st >> 8) & 0xff : 128 + (st & 0x7f)
  }

  /// Waits for the script to exit; returns its exit code (128+signal if killed).
  func wait(timeout: Double = 20) -> Int32? {
    let deadline = Date().addingTimeInterval(timeout)
    // The exit itself wakes nothing here: look again after 1, 2, 4 ... 10 ms.
    var nap: Int32 = 1
    while Date() < deadline {
      pump()
      var st: Int32 = 0
      let r = waitpid(pid, &st, WNOHANG)
      if r == pid {
        status = st
        pump()
        return (st & 0x7f) == 0 ? (st >> 8) & 0xff : 128 + (st & 0x7f)
      }
      pause(ms: nap)
      nap = min(nap * 2, 10)
    }
    return nil
  }

  var remainingOutput: String {
    pump()
    return outBuffer
  }
}

/// The one-letter state of a process in /proc (R running, S sleeping in a
/// system call, Z zombie, ...), nil when it is gone.
func processState(_ pid: pid_t) -> Character? {
  guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
    let close = stat.lastIndex(of: ")")
  else { return nil }
  return stat[stat.index(close, offsetBy: 2)]
}

/// Waits (at most `timeout` seconds) until `pid` is asleep in a system
/// call, seen twice a few milliseconds apart: a script that printed that
/// it is about to wait is then in that wait. Cheaper than a fixed sleep
/// before signalling it, and on a loaded machine it does not guess.
func waitUntilBlocked(_ pid: pid_t, timeout: Double = 5) {
  let deadline = Date().addingTimeInterval(timeout)
  var seen = 0
  while Date() < deadline, seen < 2 {
    seen = processState(pid) == "S" ? seen + 1 : 0
    usleep(3_000)
  }
}

/// Whether a process exists and is not a zombie.
func isRunning(_ pid: pid_t) -> Bool {
  guard kill(pid, 0) == 0 else { return false }
  guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
    let close = stat.lastIndex(of: ")")
  else { return false }
  let state = stat[stat.index(close, offsetBy: 2)]
  return state != "Z" && state != "X"
}

/// Children of `pid` that are zombies.
func zombieChildren(of pid: pid_t) -> Int {
  var n = 0
  let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
  for e in entries where Int32(e) != nil {
    guard let stat = try? String(contentsOfFile: "/proc/\(e)/stat", encoding: .utf8),
      let close = stat.lastIndex(of: ")")
    else { continue }
    let fields = stat[stat.index(close, offsetBy: 2)...].split(separator: " ")
    if fields.count > 1, fields[0] == "Z", Int32(fields[1]) == pid { n += 1 }
  }
  return n
}

func openFds(of pid: pid_t) -> Int {
  ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")) ?? []).count
}
