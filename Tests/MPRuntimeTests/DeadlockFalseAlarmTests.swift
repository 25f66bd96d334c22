import Foundation
import Glibc
import MPTestSupport
import XCTest

/// Waits whose condition already holds are no deadlock, however long the
/// waiter takes to run again (docs/reference.md, "Deadlock detection": a
/// wait whose condition already holds is about to end).
final class DeadlockFalseAlarmTests: XCTestCase {
  /// An event waiter whose event is set, but which has not run since (here
  /// it is stopped; on a loaded machine it may simply not be scheduled),
  /// while main joins it. Its entry still says "waiting on event": read as
  /// "anyone could wake it", with nobody else running, that was reported as
  /// a deadlock after two looks and the waiter was killed.
  func testAWaiterWhoseEventIsSetIsNotDeadlockedWhileItHasNotRun() throws {
    let mp = try MPProcess(script: """
      let e = event()
      let q = queue()
      fn waiter(e, q) {
        q.put(1)
        return e.wait()
      }
      let a = spawn(waiter, e, q)
      q.get()
      while len([r for r in ps() if r["pid"] == a.pid and r["waits"] != ""]) == 0 { sleep(0.01) }
      kill(a.pid, "STOP")
      e.set()
      print(a.pid)
      print(join(a))
      """)
    defer { mp.cleanup() }
    let line = try XCTUnwrap(mp.readLine(timeout: 30), "no pid line; stderr: \(mp.errText)")
    let waiter = try XCTUnwrap(pid_t(line))
    // Stopped for longer than the detector needs to confirm (two looks
    // 0.25 s apart, in main's 0.1 s slices): this is the scenario, not a
    // wait for something to happen.
    waitUntilBlocked(mp.pid)
    usleep(1_000_000)
    XCTAssertEqual(kill(waiter, SIGCONT), 0)
    XCTAssertEqual(mp.readLine(timeout: 20), "true", mp.errText)
    XCTAssertEqual(mp.wait(), 0, mp.errText)
    XCTAssertFalse(mp.errText.contains("deadlock"), mp.errText)
  }

  /// The same for a barrier: a waiter let go by the last arrival, which has
  /// not run since, while main joins it.
  func testAWaiterLetGoByItsBarrierIsNotDeadlockedWhileItHasNotRun() throws {
    let mp = try MPProcess(script: """
      let b = barrier(2)
      fn waiter(b) { return b.wait() }
      let a = spawn(waiter, b)
      while len([r for r in ps() if r["pid"] == a.pid and r["waits"] != ""]) == 0 { sleep(0.01) }
      kill(a.pid, "STOP")
      print(b.wait())
      print(a.pid)
      print(join(a))
      """)
    defer { mp.cleanup() }
    XCTAssertEqual(mp.readLine(timeout: 30), "1", mp.errText)
    let line = try XCTUnwrap(mp.readLine(timeout: 30), "no pid line; stderr: \(mp.errText)")
    let waiter = try XCTUnwrap(pid_t(line))
    waitUntilBlocked(mp.pid)
    usleep(1_000_000)
    XCTAssertEqual(kill(waiter, SIGCONT), 0)
    XCTAssertEqual(mp.readLine(timeout: 20), "0", mp.errText)
    XCTAssertEqual(mp.wait(), 0, mp.errText)
    XCTAssertFalse(mp.errText.contains("deadlock"), mp.errText)
  }
}
