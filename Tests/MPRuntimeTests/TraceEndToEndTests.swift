import Foundation
import XCTest

/// `mp --trace` and `--trace-out` on the tutorial's examples: every process
/// the run started has a row in the timeline and a track in the JSON.
final class TraceEndToEndTests: XCTestCase {
  /// Example file → processes its run has (main included).
  static let examples: [(String, Int)] = [
    ("01_no_join.mp", 3), ("02_join.mp", 3), ("03_ten_processes.mp", 11),
    ("05_lock.mp", 11), ("08_producer_consumer.mp", 3), ("10_pool.mp", 7),
  ]

  struct Run {
    var status: Int32?
    var stderr: String
    var json: String?
  }

  /// Every example traced once, all at the same time: they mostly sleep,
  /// so together they take as long as the longest, not the sum. Both tests
  /// read these runs. They start at the first of `startEarly()` (called by
  /// ArenaTests, which runs before this class) and the first test here.
  static let started: [(file: String, mp: MPProcess, json: String)] = {
    var started: [(String, MPProcess, String)] = []
    for (file, _) in examples {
      let json = NSTemporaryDirectory() + "mp-trace-\(getpid())-\(file).json"
      guard let source = try? String(contentsOfFile: MPProcess.root + "/examples/" + file, encoding: .utf8),
        let mp = try? MPProcess(script: source, flags: ["--trace", "--trace-out", json])
      else { continue }
      started.append((file, mp, json))
    }
    return started
  }()

  /// Starts the traced runs now, if this run of the test binary will
  /// check them: their 2 s of sleeps then pass while other tests run.
  static func startEarly() {
    guard ScriptBatch.selects("TraceEndToEndTests") else { return }
    _ = started
  }

  static let runs: [String: Run] = {
    var out: [String: Run] = [:]
    for (file, mp, json) in started {
      let status = mp.wait(timeout: 60)
      out[file] = Run(status: status, stderr: mp.errText, json: try? String(contentsOfFile: json, encoding: .utf8))
      mp.cleanup()
      try? FileManager.default.removeItem(atPath: json)
    }
    return out
  }()

  func run(_ file: String) throws -> Run {
    try XCTUnwrap(Self.runs[file], "\(file) could not be started (is the mp binary built?)")
  }

  func testEveryProcessOfEachTutorialExampleHasARowAndATrack() throws {
    for (file, processes) in Self.examples {
      let r = try run(file)
      XCTAssertEqual(r.status, 0, "\(file): \(r.stderr)")
      let rows = r.stderr.split(separator: "\n").filter { line in
        line.first?.isNumber == true && line.contains("|")
      }
      XCTAssertEqual(rows.count, processes, "\(file) timeline:\n\(r.stderr)")
      XCTAssertTrue(r.stderr.contains("legend: = running"), r.stderr)
      XCTAssertTrue(r.stderr.contains("\nwall "), r.stderr)
      let text = try XCTUnwrap(r.json, "\(file): no trace file")
      let pids = Set(rows.compactMap { Int($0.split(separator: " ").first ?? "") })
      try TimelineTests.checkChromeTrace(text, pids: pids)
    }
  }

  func testTheLockExampleShowsHoldersAndWaiters() throws {
    let r = try run("05_lock.mp")
    XCTAssertEqual(r.status, 0, r.stderr)
    let workers = r.stderr.split(separator: "\n").filter { $0.contains(" worker ") && $0.contains("|") }
    XCTAssertEqual(workers.count, 10, r.stderr)
    XCTAssertTrue(workers.allSatisfy { $0.contains("#") }, "every worker held the lock:\n\(r.stderr)")
    XCTAssertGreaterThanOrEqual(workers.filter { $0.contains("L") }.count, 2, "several waited for it:\n\(r.stderr)")
    XCTAssertTrue(r.stderr.contains("# holding lock"), r.stderr)
  }
}
