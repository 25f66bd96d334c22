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

  func testEveryProcessOfEachTutorialExampleHasARowAndATrack() throws {
    for (file, processes) in Self.examples {
      let source = try String(contentsOfFile: MPProcess.root + "/examples/" + file, encoding: .utf8)
      let json = NSTemporaryDirectory() + "mp-trace-\(getpid())-\(file).json"
      defer { try? FileManager.default.removeItem(atPath: json) }
      let mp = try MPProcess(script: source, flags: ["--trace", "--trace-out", json])
      defer { mp.cleanup() }
      XCTAssertEqual(mp.wait(timeout: 60), 0, "\(file): \(mp.errText)")
      let rows = mp.errText.split(separator: "\n").filter { line in
        line.first?.isNumber == true && line.contains("|")
      }
      XCTAssertEqual(rows.count, processes, "\(file) timeline:\n\(mp.errText)")
      XCTAssertTrue(mp.errText.contains("legend: = running"), mp.errText)
      XCTAssertTrue(mp.errText.contains("\nwall "), mp.errText)
      let text = try String(contentsOfFile: json, encoding: .utf8)
      let pids = Set(rows.compactMap { Int($0.split(separator: " ").first ?? "") })
      try TimelineTests.checkChromeTrace(text, pids: pids)
    }
  }

  func testTheLockExampleShowsHoldersAndWaiters() throws {
    let source = try String(contentsOfFile: MPProcess.root + "/examples/05_lock.mp", encoding: .utf8)
    let mp = try MPProcess(script: source, flags: ["--trace"])
    defer { mp.cleanup() }
    XCTAssertEqual(mp.wait(timeout: 60), 0, mp.errText)
    let workers = mp.errText.split(separator: "\n").filter { $0.contains(" worker ") && $0.contains("|") }
    XCTAssertEqual(workers.count, 10, mp.errText)
    XCTAssertTrue(workers.allSatisfy { $0.contains("#") }, "every worker held the lock:\n\(mp.errText)")
    XCTAssertGreaterThanOrEqual(workers.filter { $0.contains("L") }.count, 2, "several waited for it:\n\(mp.errText)")
    XCTAssertTrue(mp.errText.contains("# holding lock"), mp.errText)
  }
}
