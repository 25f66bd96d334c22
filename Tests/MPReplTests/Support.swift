import Foundation
import MPTestSupport
import XCTest

/// The `mp` this test run built (see `BuiltBinary`); a missing binary
/// fails the test.
func mpBinary() throws -> String { try BuiltBinary.path() }

/// A fresh directory, removed by the test's teardown.
func makeTempDirectory(_ test: XCTestCase) throws -> String {
  let path = NSTemporaryDirectory() + "mp-repl-tests-" + UUID().uuidString
  try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  test.addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
  return path
}

struct RunResult {
  var status: Int32
  var stdout: String
  var stderr: String
  var timedOut: Bool
}

/// Runs a program with `input` on stdin, bounded by `timeout`: on expiry it
/// is killed. Output goes through files, so a chatty child can never block
/// on a full pipe while we wait for it.
///
/// posix_spawn and waitpid, not Foundation's Process: Process learns that a
/// child ended when a socket the child inherited closes, and a tmux client
/// hands that socket on to the server it starts, so Process never noticed
/// the client exit and waited forever.
func runProcess(
  _ path: String, _ args: [String] = [], input: String, environment: [String: String] = [:],
  currentDirectory: String? = nil, timeout: TimeInterval = 20
) throws -> RunResult {
  try StartedProcess(path, args, input: input, environment: environment, currentDirectory: currentDirectory, timeout: timeout)
    .finish()
}

/// `runProcess` in two halves: start several, then finish each, and runs
/// that mostly wait (timeouts, sleeps) overlap instead of adding up.
final class StartedProcess {
  let dir: String
  let pid: pid_t
  let deadline: Date
  private var result: RunResult?

  init(
    _ path: String, _ args: [String] = [], input: String, environment: [String: String] = [:],
    currentDirectory: String? = nil, timeout: TimeInterval = 20
  ) throws {
    dir = NSTemporaryDirectory() + "mp-run-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let inPath = dir + "/in", outPath = dir + "/out", errPath = dir + "/err"
    try input.write(toFile: inPath, atomically: false, encoding: .utf8)

    var env = ProcessInfo.processInfo.environment
    env["MP_HISTORY"] = dir + "/history"  // never the user's own history
    for (k, v) in environment { env[k] = v }
    // A shell changes directory for us; posix_spawn's chdir action is not portable.
    var argv = [path] + args
    if let currentDirectory {
      argv = ["/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", currentDirectory] + argv
    }
    let cArgs = argv.map { strdup($0) } + [nil]
    let cEnv = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer {
      cArgs.forEach { free($0) }
      cEnv.forEach { free($0) }
    }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, inPath, O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    var pid: pid_t = 0
    let rc = posix_spawn(&pid, argv[0], &actions, nil, cArgs, cEnv)
    guard rc == 0 else {
      try? FileManager.default.removeItem(atPath: dir)
      throw NSError(domain: "spawn", code: Int(rc), userInfo: [NSLocalizedDescriptionKey: "cannot start \(argv[0]): \(String(cString: strerror(rc)))"])
    }
    self.pid = pid
    deadline = Date().addingTimeInterval(timeout)
  }

  /// Waits for the program (killing it at its deadline) and returns what it did.
  func finish() -> RunResult {
    if let result { return result }
    var status: Int32 = 0
    var timedOut = false
    // Most runs (tmux commands above all) end within a few milliseconds:
    // look again after 0.5, 1, 2 ... 5 ms rather than a fixed 5 ms.
    var nap: UInt32 = 500
    while true {
      let r = waitpid(pid, &status, WNOHANG)
      if r == pid || (r < 0 && errno != EINTR) { break }
      if Date() > deadline {
        timedOut = true
        kill(pid, SIGKILL)
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        break
      }
      usleep(nap)
      nap = min(nap * 2, 5_000)
    }
    // Decoded by hand: WIFEXITED and friends are macros Swift cannot see.
    let signal = status & 0x7f
    let exitStatus = signal == 0 ? (status >> 8) & 0xff : 128 + signal
    let out = (try? String(contentsOfFile: dir + "/out", encoding: .utf8)) ?? ""
    let err = (try? String(contentsOfFile: dir + "/err", encoding: .utf8)) ?? ""
    try? FileManager.default.removeItem(atPath: dir)
    let r = RunResult(status: exitStatus, stdout: out, stderr: err, timedOut: timedOut)
    result = r
    return r
  }

  /// A test that throws between start and finish still reaps the program.
  deinit {
    if result == nil {
      kill(pid, SIGKILL)
      _ = finish()
    }
  }
}

/// Drives `mp` in a real terminal: a private tmux server (its own socket,
/// no user configuration) whose only pane runs mp. `stop()` kills the
/// server and with it the pane's processes; tests call it in teardown so
/// nothing outlives a failing test.
final class TerminalSession {
  let tmux: String
  let socket: String
  let statusFile: String
  private(set) var stopped = false
  /// Sessions started so far in this test process (names the sockets).
  private static var started = 0

  /// Starts `mp` in an 100x40 terminal; `environment` is added to a small
  /// fixed one (the test runner's own environment does not leak in).
  init(mp: String, directory: String, environment: [String: String], test: XCTestCase) throws {
    guard let tmux = ["/usr/bin/tmux", "/usr/local/bin/tmux", "/bin/tmux"].first(where: {
      FileManager.default.isExecutableFile(atPath: $0)
    }) else { throw XCTSkip("tmux is not installed; terminal tests need it") }
    self.tmux = tmux
    // Each session has its own socket and status file. A test that starts
    // mp again in the same directory (history across a restart) used a
    // server on the socket just given `kill-server`, which returns before
    // that server has gone: the new session went to the dying server and
    // vanished with it, leaving an empty screen (1 run in ~5 of this
    // sequence on a loaded machine); and the status file still held the
    // first session's exit status.
    TerminalSession.started += 1
    socket = directory + "/tmux-\(TerminalSession.started).sock"
    statusFile = directory + "/mp-status-\(TerminalSession.started)"
    var env = ["TERM": "xterm-256color", "HOME": directory, "PATH": "/usr/bin:/bin"]
    for (k, v) in environment { env[k] = v }
    let assignments = env.sorted { $0.key < $1.key }.map { "\($0.key)=\(TerminalSession.quote($0.value))" }
    // The pane outlives mp (sleep) so its last screen can still be read;
    // mp's exit status goes to a file.
    let command = "env -i \(assignments.joined(separator: " ")) \(TerminalSession.quote(mp)); echo $? > \(TerminalSession.quote(statusFile)); sleep 600"
    // Held strongly: the teardown must run even after the test dropped its
    // reference, and it runs before the directory (and socket) is removed.
    test.addTeardownBlock { self.stop() }
    try tmuxCommand(["-f", "/dev/null", "new-session", "-d", "-x", "100", "-y", "40", "-c", directory, command])
  }

  static func quote(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }

  @discardableResult
  func tmuxCommand(_ args: [String]) throws -> String {
    let r = try runProcess(tmux, ["-u", "-S", socket] + args, input: "", timeout: 10)
    if r.timedOut { throw NSError(domain: "tmux", code: 1, userInfo: [NSLocalizedDescriptionKey: "tmux \(args) timed out"]) }
    return r.stdout
  }

  /// Types text literally (no key names).
  func type(_ text: String) throws { try tmuxCommand(["send-keys", "-l", text]) }

  /// Presses keys by tmux name: Enter, Tab, Up, C-c, C-d.
  func press(_ keys: String...) throws { try tmuxCommand(["send-keys"] + keys) }

  /// The visible screen, trailing blank lines dropped.
  func screen() throws -> String {
    var lines = try tmuxCommand(["capture-pane", "-p"]).components(separatedBy: "\n")
    while let last = lines.last, last.trimmingCharacters(in: .whitespaces).isEmpty { lines.removeLast() }
    return lines.joined(separator: "\n")
  }

  /// Waits (bounded) until the screen satisfies `condition`; returns the last screen.
  @discardableResult
  func waitFor(timeout: TimeInterval = 5, _ condition: (String) -> Bool) throws -> (ok: Bool, screen: String) {
    let start = Date()
    let deadline = start.addingTimeInterval(timeout)
    var s = ""
    repeat {
      s = try screen()
      if condition(s) { return (true, s) }
      // Each look is a tmux client run: 10 ms apart at first, so a quick
      // answer is seen quickly, then 30 ms apart, so a slow one on a
      // loaded machine is not slowed further by a flood of clients.
      usleep(Date().timeIntervalSince(start) < 0.3 ? 10_000 : 30_000)
    } while Date() < deadline
    return (false, s)
  }

  /// Waits until the last line of the screen is exactly `line` (say, a fresh prompt).
  @discardableResult
  func waitForLastLine(_ line: String, timeout: TimeInterval = 5) throws -> (ok: Bool, screen: String) {
    try waitFor(timeout: timeout) { $0.components(separatedBy: "\n").last == line }
  }

  /// mp's exit status once it has ended (bounded wait), or nil.
  func exitStatus(timeout: TimeInterval = 5) -> Int32? {
    let deadline = Date().addingTimeInterval(timeout)
    repeat {
      if let s = try? String(contentsOfFile: statusFile, encoding: .utf8),
        let n = Int32(s.trimmingCharacters(in: .whitespacesAndNewlines))
      {
        return n
      }
      usleep(10_000)
    } while Date() < deadline
    return nil
  }

  deinit { stop() }

  func stop() {
    guard !stopped else { return }
    stopped = true
    _ = try? runProcess(tmux, ["-S", socket, "kill-server"], input: "", timeout: 10)
  }
}
