import Foundation
import Glibc
import XCTest

/// Scripts whose tests only read what the run printed and how it ended,
/// run a few at a time beside each other: the test process mostly waits
/// for one `mp` at a time, so on two CPUs the other sat idle. The first
/// test of a class that asks for its script's result starts the batch;
/// each test then takes its own result (its own process, its own output,
/// so a failure still points at one script). No threads: asking for a
/// result pumps every running script and starts the next ones as runs end.
final class ScriptBatch {
  final class Script {
    let test: String
    let source: String
    let env: [String: String]
    let timeout: Double
    /// `test` is the name of the test method that checks the run.
    init(_ test: String, env: [String: String] = [:], timeout: Double = 60, _ source: String) {
      self.test = test
      self.source = source
      self.env = env
      self.timeout = timeout
    }
  }

  struct Result {
    var out: String
    var err: String
    /// The exit code (128 + signal), or -1 if the run passed its timeout.
    var status: Int32
    /// From the run's start to its end.
    var seconds: Double
  }

  let className: String
  let scripts: [Script]
  let width: Int
  private var queued: [Script] = []
  private var running: [(script: Script, mp: MPProcess, start: Date)] = []
  private var done: [ObjectIdentifier: Result] = [:]
  private var started = false

  /// `className` is the XCTestCase subclass's name, to find which of its
  /// tests a filtered run selected; `width` runs go at once.
  init(_ className: String, width: Int = 3, _ scripts: [Script]) {
    self.className = className
    self.scripts = scripts
    self.width = width
  }

  /// Whether this run of the test binary runs the test `test` of class
  /// `className` (any of its tests when nil): a plain `swift test` runs
  /// them all, `swift test --filter` names the selected tests on the test
  /// binary's command line.
  static func selects(_ className: String, _ test: String? = nil) -> Bool {
    let args = CommandLine.arguments.dropFirst().flatMap { $0.split(separator: ",").map(String.init) }
    guard !args.isEmpty else { return true }
    return args.contains { a in
      a == className || a.hasSuffix(".\(className)")
        || (test.map { a.hasSuffix("\(className)/\($0)") } ?? a.contains("\(className)/"))
    }
  }

  /// The scripts this run of the test binary will ask for.
  private func selected() -> [Script] {
    scripts.filter { ScriptBatch.selects(className, $0.test) }
  }

  /// The run of `script`, once it has ended (starting the batch if needed).
  func result(_ script: Script) throws -> Result {
    if !started {
      started = true
      queued = selected()
    }
    let id = ObjectIdentifier(script)
    // Asked for before its turn (or not selected): it goes first.
    if done[id] == nil, !running.contains(where: { $0.script === script }) {
      queued.removeAll { $0 === script }
      queued.insert(script, at: 0)
    }
    // Exits wake nothing here: look again after 1, 2, 4 ... 10 ms.
    var nap: UInt32 = 1_000
    while done[id] == nil {
      while running.count < width, !queued.isEmpty {
        let s = queued.removeFirst()
        let mp = try MPProcess(script: s.source, env: s.env)
        running.append((s, mp, Date()))
      }
      var ended = false
      for (i, r) in running.enumerated().reversed() {
        var status = r.mp.exitStatus()
        let seconds = Date().timeIntervalSince(r.start)
        if status == nil, seconds > r.script.timeout { status = -1 }
        guard let st = status else { continue }
        done[ObjectIdentifier(r.script)] = Result(out: r.mp.remainingOutput, err: r.mp.errText, status: st, seconds: seconds)
        r.mp.cleanup()
        running.remove(at: i)
        ended = true
      }
      if ended {
        nap = 1_000
      } else if done[id] == nil {
        usleep(nap)
        nap = min(nap * 2, 10_000)
      }
    }
    return done[id]!
  }

  /// Kills whatever still runs (a class's tearDown: a failing or filtered
  /// run must not leave scripts behind).
  func stop() {
    for r in running { r.mp.cleanup() }
    running = []
    queued = []
  }
}
