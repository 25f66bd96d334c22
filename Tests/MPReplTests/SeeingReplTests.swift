import Foundation
import XCTest

/// The REPL's view of concurrency: `:trace`, `:ps`, deadlocks, children
/// that fail in the background (through a pipe, as a session replayed).
final class SeeingReplTests: XCTestCase {
  func run(_ input: String) throws -> RunResult {
    let r = try runProcess(try mpBinary(), input: input)
    XCTAssertFalse(r.timedOut, "mp did not finish: \(r)")
    return r
  }

  func testTraceDrawsARowPerProcessThenTheSessionGoesOn() throws {
    let r = try run("fn w(l) { with l { sleep(0.1) } }\nlet l = lock()\n:trace join([spawn(w, l), spawn(w, l)])\nprint(\"after\")\n")
    let rows = r.stdout.split(separator: "\n").filter { $0.first?.isNumber == true && $0.contains("|") }
    XCTAssertEqual(rows.count, 3, r.stdout)
    XCTAssertEqual(rows.filter { $0.contains(" w ") && $0.contains("#") }.count, 2, r.stdout)
    XCTAssertTrue(rows.contains { $0.contains(" main ") && $0.contains("J") }, r.stdout)
    XCTAssertTrue(r.stdout.contains("legend: = running"), r.stdout)
    XCTAssertTrue(r.stdout.hasSuffix("after\n"), r.stdout)
    XCTAssertEqual(r.status, 0, r.stderr)
  }

  func testTraceOfAFailingStatementStillDrawsAndCounts() throws {
    let r = try run(":trace join(spawn(fn() => 1 / 0))\n")
    XCTAssertTrue(r.stderr.contains("division by zero"), r.stderr)
    XCTAssertTrue(r.stdout.contains("legend:"), r.stdout)
    XCTAssertEqual(r.status, 1)
  }

  func testADeadlockGoesBackToThePromptWithTheSessionIntact() throws {
    let r = try run("let x = 41\nlet q = queue()\nlet c = spawn(fn() => get(q))\njoin(c)\nprint(x + 1)\nprint(c.alive)\n")
    XCTAssertTrue(r.stderr.contains("error: deadlock: "), r.stderr)
    XCTAssertTrue(r.stderr.contains("main waits to join pid"), r.stderr)
    XCTAssertEqual(r.stdout, "42\nfalse\n")
    XCTAssertEqual(r.status, 1)
  }

  func testABackgroundFailureIsReportedBeforeTheNextStatementAndOnlyOnce() throws {
    // The statement before print ends once the child has (p.alive does
    // not join it); a fixed sleep would cost its length every run.
    let r = try run("fn bad() { return 1 / 0 }\nlet p = spawn(bad)\nwhile p.alive { sleep(0.01) }\nprint(\"next\")\n")
    let reports = r.stderr.components(separatedBy: "failed: division by zero").count - 1
    XCTAssertEqual(reports, 1, r.stderr)
    XCTAssertTrue(r.stderr.contains("mp: background process "), r.stderr)
    XCTAssertFalse(r.stderr.contains("never joined"), r.stderr)
    XCTAssertEqual(r.stdout, "next\n", r.stderr)
  }

  func testPsSaysWhoHoldsTheLockAWaiterWaitsFor() throws {
    // :ps once the waiter waits (bounded), not after a fixed sleep.
    let waitForIt = "let t = now()\nwhile ps()[0][\"state\"] != \"waiting\" and now() - t < 10 { sleep(0.01) }\n"
    let r = try run("print(pid())\nlet l = lock()\nacquire(l)\nlet w = spawn(fn() => acquire(l))\n" + waitForIt + ":ps\nrelease(l)\njoin(w)\n")
    let main = r.stdout.split(separator: "\n").first ?? ""
    let line = r.stdout.split(separator: "\n").first { $0.contains("<anonymous>") } ?? ""
    XCTAssertTrue(line.contains("waiting") && line.contains("lock 1 held by \(main) (main)"), r.stdout)
    XCTAssertEqual(r.status, 0, r.stderr)
  }

  func testTimeOfACallOnAnExistingPoolCountsItsWorkersCPU() throws {
    let r = try run("""
      fn burn(n) { let t = 0; let i = 0; while i < n { t += i % 7; i += 1 }; return t }
      let p = pool(2)
      :time p.map(burn, [150000, 150000, 150000, 150000], 1)
      p.close()

      """)
    let line = r.stderr.split(separator: "\n").first { $0.hasPrefix("time: ") } ?? ""
    let fields = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
    XCTAssertEqual(fields.count, 5, r.stderr)
    let children = Double(fields[2].split(separator: " ")[1]) ?? 0
    XCTAssertGreaterThan(children, 0.05, "the workers' CPU: \(String(line))")
    XCTAssertEqual(fields[3], "2 processes", String(line))
    XCTAssertEqual(r.status, 0, r.stderr)
  }
}
