import Foundation
import MPTestSupport
import XCTest

/// What mp says when it is given something odd on its command line, in its
/// environment or in a script's edges: a true, short message and the exit
/// code docs/reference.md gives (2 for a bad command line).
final class CommandLineEdgeTests: XCTestCase {
  func dir() throws -> String { try makeTempDirectory(self) }

  func write(_ text: String, _ name: String, in d: String) throws -> String {
    let path = d + "/" + name
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
  }

  func testAnUnknownFlagExitsTwoWithAUsageLineNamingIt() throws {
    let mp = try mpBinary()
    let r = try runProcess(mp, ["--no-such-flag"], input: "")
    XCTAssertEqual(r.status, 2, r.stderr)
    XCTAssertTrue(r.stderr.contains("'--no-such-flag'"), r.stderr)
    XCTAssertTrue(r.stderr.contains("Usage: mp "), r.stderr)
    let t = try runProcess(mp, ["test", "--bogus"], input: "")
    XCTAssertEqual(t.status, 2, t.stderr)
    XCTAssertTrue(t.stderr.contains("'--bogus'") && t.stderr.contains("Usage: mp test "), t.stderr)
  }

  func testDurationsInMessagesReadAsTheUserWroteThem() throws {
    let mp = try mpBinary()
    let d = try dir()
    let slow = try write("# expect: never\nsleep(5)\n", "slow.mp", in: d)
    // Three timeouts, run side by side: they overlap instead of adding up.
    let join = try StartedProcess(mp, ["-e", "let p = spawn(sleep, 2)\ntry { join([p], 0.2) } catch e { print(e[\"message\"]) }\np.kill()"], input: "")
    let get = try StartedProcess(mp, ["-e", "try { queue().get(0.25) } catch e { print(e[\"message\"]) }"], input: "")
    let test = try StartedProcess(mp, ["test", "--timeout", "0.3", slow], input: "")
    let r = join.finish(), q = get.finish(), t = test.finish()
    XCTAssertTrue(r.stdout.hasPrefix("join timed out after 0.2 s: process "), r.stdout + r.stderr)
    XCTAssertEqual(q.stdout, "get timed out after 0.25 s: <queue 1> stayed empty\n", q.stderr)
    XCTAssertTrue(t.stdout.contains("timed out after 0.3 s (killed)"), t.stdout)
    XCTAssertEqual(t.status, 1)
  }

  func testADirectoryAsTheScriptSaysSo() throws {
    let d = try dir()
    let r = try runProcess(try mpBinary(), [d], input: "")
    XCTAssertEqual(r.status, 2)
    XCTAssertEqual(r.stderr, "mp: cannot read '\(d)': Is a directory\n")
  }

  func testAPipeAsTheScriptIsRead() throws {
    // `mp <(generator)`: the script arrives through a pipe.
    let r = try runProcess("/bin/bash", ["-c", "exec \"$0\" <(echo 'print(6 * 7)')", try mpBinary()], input: "")
    XCTAssertEqual(r.stdout, "42\n", r.stderr)
    XCTAssertEqual(r.status, 0)
  }

  func testImportingADirectorySaysSo() throws {
    let d = try dir()
    try FileManager.default.createDirectory(atPath: d + "/lib.mp", withIntermediateDirectories: true)
    let main = try write("import \"lib.mp\"\n", "main.mp", in: d)
    let r = try runProcess(try mpBinary(), [main], input: "")
    XCTAssertEqual(r.status, 1)
    XCTAssertTrue(r.stderr.contains("cannot import 'lib.mp': \(d)/lib.mp: Is a directory"), r.stderr)
    let missing = try write("import \"nope.mp\"\n", "m2.mp", in: d)
    let m = try runProcess(try mpBinary(), [missing], input: "")
    XCTAssertTrue(m.stderr.contains("cannot import 'nope.mp': no such file"), m.stderr)
  }

  func testAnErrorOnAHugeLineShowsAPartOfIt() throws {
    let d = try dir()
    let n = TestSize.pick(20_000, 100_000)  // 60 KB or 300 KB
    let line = "let x = [" + String(repeating: "1, ", count: n) + " else]\n"
    let r = try runProcess(try mpBinary(), [try write(line, "long.mp", in: d)], input: "")
    XCTAssertEqual(r.status, 2)
    XCTAssertLessThan(r.stderr.utf8.count, 1200, String(r.stderr.prefix(300)))
    let lines = r.stderr.split(separator: "\n", omittingEmptySubsequences: false)
    XCTAssertTrue(lines[0].hasSuffix("long.mp:1:\(3 * n + 11): error: expected an expression, found 'else'"), String(lines[0]))
    // The caret still points at 'else' in the excerpt.
    let excerpt = lines[1], caret = lines[2]
    let col = caret.count - 1
    XCTAssertEqual(caret.last, "^")
    XCTAssertTrue(excerpt.hasPrefix("    ..."), String(excerpt))
    XCTAssertEqual(String(Array(excerpt)[col..<(col + 4)]), "else", String(excerpt))
  }

  func testMaxProcsAboveTheProcessTableIsRefused() throws {
    let mp = try mpBinary()
    let r = try runProcess(mp, ["-e", "print(1)"], input: "", environment: ["MP_MAX_PROCS": "5000"])
    XCTAssertEqual(r.status, 1)
    XCTAssertEqual(r.stdout, "")
    XCTAssertTrue(r.stderr.contains("MP_MAX_PROCS is 5000, but the process table holds at most 2047"), r.stderr)
    let bad = try runProcess(mp, ["-e", "print(1)"], input: "", environment: ["MP_MAX_PROCS": "lots"])
    XCTAssertTrue(bad.stderr.contains("MP_MAX_PROCS must be a whole number from 0 to 2047, found 'lots'"), bad.stderr)
    let ok = try runProcess(mp, ["-e", "print(1)"], input: "", environment: ["MP_MAX_PROCS": "2047"])
    XCTAssertEqual(ok.stdout, "1\n", ok.stderr)
  }

  func testATooBigPoolIsRefusedBeforeAnyWorkerIsForked() throws {
    let r = try runProcess(try mpBinary(), ["-e", """
      try { pool(100000) } catch e { print(e["kind"], e["message"]) }
      print(len(ps()))
      with pool(2) as p { print(p.map(fn(x) => x * x, [1, 2, 3])) }
      """], input: "", environment: ["MP_MAX_PROCS": "8"])
    XCTAssertEqual(r.stdout, """
      process pool(100000) needs 100000 worker processes, but MP_MAX_PROCS is 8 and 0 are alive (use fewer workers, or raise MP_MAX_PROCS)
      0
      [1, 4, 9]

      """, r.stderr)
  }

  func testExitCodesOutsideAByteAreRefused() throws {
    let mp = try mpBinary()
    for code in ["256", "-1"] {
      let r = try runProcess(mp, ["-e", "exit(\(code))"], input: "")
      XCTAssertEqual(r.status, 1, code)
      XCTAssertTrue(r.stderr.contains("exit() code must be from 0 to 255, found \(code)"), r.stderr)
    }
    XCTAssertEqual(try runProcess(mp, ["-e", "exit(255)"], input: "").status, 255)
  }

  func testAChildRunningOutOfMemoryPrintsOneLineNotAStackTrace() throws {
    // An address-space limit makes allocation fail (without one Linux's
    // OOM killer sends SIGKILL, which join already reports in one line).
    let program = """
      fn hog() { let xs = []; while true { xs.push("x" * 10_000_000 + str(len(xs))) } }
      print(join(spawn(hog)))
      """
    let r = try runProcess("/bin/sh", ["-c", "ulimit -v 2600000 && exec \"$0\" -e \"$1\"", try mpBinary(), program], input: "", timeout: 60)
    XCTAssertEqual(r.status, 1, r.stderr)
    XCTAssertFalse(r.stderr.contains("stack trace"), r.stderr)
    XCTAssertTrue(r.stderr.hasPrefix("Fatal error: failed to allocate"), r.stderr)
    XCTAssertTrue(r.stderr.contains("(hog) was killed by SIGABRT"), r.stderr)
    XCTAssertLessThanOrEqual(r.stderr.split(separator: "\n").count, 5, r.stderr)
  }
}
