import Foundation
import XCTest

/// A script that fails while its children still run says what it waits
/// for, and Ctrl-C ends that wait.
final class FailedMainWaitTests: XCTestCase {
  func testAFailedMainSaysWhatItWaitsForAndCtrlCEndsTheWait() throws {
    let mp = try MPProcess(script: """
      fn forever() { while true { sleep(0.1) } }
      let p = spawn(forever)
      # Fail once the child is in its loop (bounded), not after a fixed sleep.
      let t = now()
      while ps()[0]["state"] != "sleeping" and now() - t < 10 { sleep(0.01) }
      print(1 / 0)
      """)
    defer { mp.cleanup() }
    try waitForReport(mp, saying: "waiting for its child processes to end (Ctrl-C stops them)")
    XCTAssertTrue(mp.errText.contains("(forever): sleeping"), mp.errText)
    try stopWithCtrlC(mp)
  }

  /// Waits (bounded) until mp's stderr says `text`, while mp keeps running.
  func waitForReport(_ mp: MPProcess, saying text: String) throws {
    let deadline = Date().addingTimeInterval(10)
    while Date() < deadline, !mp.errText.contains(text) {
      XCTAssertNil(mp.wait(timeout: 0.1), "mp ended by itself: \(mp.errText)")
    }
    XCTAssertTrue(mp.errText.contains(text), mp.errText)
  }

  /// Ctrl-C ends the wait for the children: exit 130.
  func stopWithCtrlC(_ mp: MPProcess) throws {
    kill(mp.pid, SIGINT)
    XCTAssertEqual(mp.wait(timeout: 10), 130, mp.errText)
  }

  /// The idle workers of main's own pools are not waited for (the end of
  /// the program closes the pool), so they are not listed either.
  func testIdlePoolWorkersAreNotListedAsWaitedFor() throws {
    let err = try report(of: """
      fn forever() { while true { sleep(0.1) } }
      let workers = pool(2)
      let p = spawn(forever)
      # Fail once the child sleeps in its loop and the workers wait for
      # tasks (bounded), not after a fixed sleep.
      fn settled() {
        let all = ps()
        let asleep = filter(fn(x) => x["name"] == "forever" and x["state"] == "sleeping", all)
        let idle = filter(fn(x) => x["name"] == "pool worker" and x["state"] == "waiting", all)
        return len(asleep) == 1 and len(idle) == 2
      }
      let t = now()
      while not settled() and now() - t < 10 { sleep(0.01) }
      print(1 / 0)
      """, saying: "(forever): sleeping")
    XCTAssertFalse(err.contains("pool worker"), err)
  }

  /// Workers forked a moment before main failed are still starting: they
  /// read as running, yet closing the pool does not wait for them (the stop
  /// message is their first task), so they are not listed. (Listed before
  /// in most runs: "pid N (pool worker): running".)
  func testPoolWorkersStillStartingAreNotListed() throws {
    let err = try report(of: """
      fn forever() { while true { sleep(0.1) } }
      let p = spawn(forever)
      let t = now()
      while ps()[0]["state"] != "sleeping" and now() - t < 10 { sleep(0.01) }
      let workers = pool(4)
      print(1 / 0)
      """, saying: "(forever): sleeping")
    XCTAssertFalse(err.contains("pool worker"), err)
  }

  /// A worker with its initializer to run is working, even before it has
  /// started it: closing the pool waits for it, so it is listed.
  func testAPoolWorkerWithItsInitializerToRunIsListed() throws {
    _ = try report(of: """
      fn init() { sleep(60) }
      let workers = pool(1, initializer=init)
      print(1 / 0)
      """, saying: "(pool worker): ")
  }

  /// What mp, failing while children run, says it waits for once it says
  /// `text`; then Ctrl-C ends the wait.
  func report(of script: String, saying text: String) throws -> String {
    let mp = try MPProcess(script: script)
    defer { mp.cleanup() }
    try waitForReport(mp, saying: text)
    let err = mp.errText
    try stopWithCtrlC(mp)
    return err
  }
}
