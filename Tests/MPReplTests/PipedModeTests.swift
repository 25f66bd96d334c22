import Foundation
import XCTest

/// `mp` with stdin not a terminal: the same REPL without prompts or line
/// editing, so a session can be replayed through a pipe.
final class PipedModeTests: XCTestCase {
  func run(_ input: String, environment: [String: String] = [:], in dir: String? = nil) throws -> RunResult {
    let r = try runProcess(try mpBinary(), input: input, environment: environment, currentDirectory: dir)
    XCTAssertFalse(r.timedOut, "mp did not finish: \(r)")
    return r
  }

  func testStatementsRunAndExpressionsEcho() throws {
    let r = try run("let x = 2\nprint(x * 21)\nx * 21\n\"s\"\nnil\n[1, \"a\", nil]\n")
    XCTAssertEqual(r.stdout, "42\n42\n\"s\"\n[1, \"a\", nil]\n")
    XCTAssertEqual(r.stderr, "")
    XCTAssertEqual(r.status, 0)
  }

  func testNoPromptsOrEscapes() throws {
    let r = try run("1\n")
    XCTAssertEqual(r.stdout, "1\n")
    XCTAssertFalse(r.stdout.contains("mp>"))
    XCTAssertFalse(r.stdout.contains("\u{1B}"))
  }

  func testMultiLineStatements() throws {
    let r = try run("fn sq(a) {\n  return a * a\n}\nsq(7)\nlet xs = [\n  1,\n  2,\n]\nlen(xs)\nlet s = 1 +\n  2\ns\n")
    XCTAssertEqual(r.stdout, "49\n2\n3\n")
    XCTAssertEqual(r.status, 0)
  }

  func testAnErrorIsReportedAndTheSessionGoesOnWithItsBindings() throws {
    let r = try run("let kept = 5\nnope\nkept + 1\n")
    XCTAssertEqual(r.stdout, "6\n")
    XCTAssertTrue(r.stderr.contains("<stdin>:2:1: error: undefined name 'nope'"), r.stderr)
    XCTAssertTrue(r.stderr.contains("    nope\n    ^\n"), r.stderr)
    XCTAssertEqual(r.status, 1, "a failed statement makes the exit status 1")
  }

  func testLinesAreNumberedAcrossTheSession() throws {
    let r = try run("let a = 1\nfn f() {\n  return zz\n}\n\nf()\n")
    XCTAssertTrue(r.stderr.contains("<stdin>:3:10: error: undefined name 'zz'"), r.stderr)
    XCTAssertTrue(r.stderr.contains("at <top level> (<stdin>:6:1)"), r.stderr)
  }

  func testABrokenInterpolationDoesNotSwallowTheRest() throws {
    let r = try run("print(\"{1+}\")\nprint(2)\n")
    XCTAssertEqual(r.stdout, "2\n")
    XCTAssertTrue(r.stderr.contains("<stdin>:1:"), r.stderr)
  }

  func testInputEndingInsideABlockIsAnError() throws {
    let r = try run("print(1)\nfn f() {\n")
    XCTAssertEqual(r.stdout, "1\n")
    XCTAssertTrue(r.stderr.contains("expected '}'"), r.stderr)
    XCTAssertEqual(r.status, 1)
  }

  func testLastLineWithoutNewline() throws {
    XCTAssertEqual(try run("1 + 1").stdout, "2\n")
  }

  func testExitCode() throws {
    let r = try run("print(1)\nexit(3)\nprint(2)\n")
    XCTAssertEqual(r.stdout, "1\n")
    XCTAssertEqual(r.status, 3)
  }

  func testTimeCommand() throws {
    let r = try run(":time sleep(0.2)\n:time for i in range(2) {\n  print(i)\n}\n")
    XCTAssertEqual(r.stdout, "0\n1\n")
    let lines = r.stderr.split(separator: "\n")
    XCTAssertEqual(lines.count, 2, r.stderr)
    XCTAssertTrue(lines.allSatisfy { $0.hasPrefix("time: wall ") && $0.contains(" processes | x") }, r.stderr)
    let wall = Double(lines[0].split(separator: " ")[2]) ?? 0
    XCTAssertGreaterThan(wall, 0.15)
    XCTAssertLessThan(wall, 5)
    XCTAssertEqual(r.status, 0)
  }

  func testTimedErrorKeepsItsColumns() throws {
    let r = try run(":time 1 + nope\n")
    XCTAssertTrue(r.stderr.contains("<stdin>:1:11: error: undefined name 'nope'"), r.stderr)
    XCTAssertTrue(r.stderr.contains("time: wall"), r.stderr)
  }

  func testLoadRunsAFileInTheSession() throws {
    let dir = try makeTempDirectory(self)
    try "let loaded = 5\nfn helper(x) { return x + loaded }\n\"not echoed\"\n".write(toFile: dir + "/lib.mp", atomically: true, encoding: .utf8)
    try "let broken = (\n".write(toFile: dir + "/broken.mp", atomically: true, encoding: .utf8)
    let r = try run(":load lib.mp\nhelper(1)\n:load \"lib.mp\"\n:load nothere.mp\n:load broken.mp\n\"after\"\n", in: dir)
    XCTAssertEqual(r.stdout, "6\n\"after\"\n")
    XCTAssertTrue(r.stderr.contains("cannot load 'nothere.mp'"), r.stderr)
    XCTAssertTrue(r.stderr.contains("broken.mp:"), r.stderr)
    XCTAssertEqual(r.status, 1)
  }

  func testReset() throws {
    let r = try run("let gone = 1\n:reset\ngone\nprint(len([1]))\n")
    XCTAssertEqual(r.stdout, "1\n", "built-ins survive a reset")
    XCTAssertTrue(r.stderr.contains("undefined name 'gone'"), r.stderr)
  }

  func testHelpListsCommandsAndBuiltins() throws {
    let r = try run(":help\n")
    for needle in [":time STATEMENT", ":load FILE", ":reset", ":quit!", "an existing pool's workers", "print(a, b, ...):", "sleep(seconds):"] {
      XCTAssertTrue(r.stdout.contains(needle), "missing \(needle)")
    }
    XCTAssertTrue(r.stdout.contains(":trace STATEMENT"), r.stdout)
    XCTAssertEqual(r.status, 0)
  }

  func testUnknownCommandsListTheKnownOnes() throws {
    for command in [":frobnicate", ":tracer 1"] {
      let r = try run("\(command)\nprint(1)\n")
      XCTAssertEqual(r.stdout, "1\n")
      XCTAssertTrue(r.stderr.contains("unknown command"), r.stderr)
      XCTAssertTrue(r.stderr.contains(":help :time :trace :ps :load :reset :quit :quit!"), r.stderr)
      XCTAssertEqual(r.status, 1)
    }
  }

  func testPsListsLiveChildrenWithFunctionStateAndAge() throws {
    let r = try run("let p = spawn(sleep, 1)\nlet q = spawn(fn() => get(queue()))\n:ps\np.kill()\nq.kill()\n")
    let lines = r.stdout.split(separator: "\n").map(String.init)
    XCTAssertEqual(lines.first?.split(separator: " ").filter { !$0.isEmpty }, ["PID", "FUNCTION", "STATE", "WAITING", "ON", "AGE"], r.stdout)
    XCTAssertTrue(lines.contains { $0.contains("sleep") && ($0.contains("sleeping") || $0.contains("running")) && $0.hasSuffix(" s") }, r.stdout)
    XCTAssertTrue(lines.contains { $0.contains("<anonymous>") && $0.contains("waiting") && $0.contains("get on queue") && $0.contains("(empty)") }
                  || lines.contains { $0.contains("<anonymous>") && $0.contains("running") }, r.stdout)
    XCTAssertEqual(r.status, 0, r.stderr)
  }

  func testQuitStopsReading() throws {
    let r = try run("print(1)\n:quit\nprint(2)\n")
    XCTAssertEqual(r.stdout, "1\n")
    XCTAssertEqual(r.status, 0)
    XCTAssertEqual(try run("nope\n:quit!\nprint(2)\n").status, 1)
  }

  func testNonASCIIText() throws {
    let r = try run("let s = \"héllo wörld\"\ns\nprint(s)\n", environment: ["LANG": "", "LC_ALL": ""])
    XCTAssertEqual(r.stdout, "\"héllo wörld\"\nhéllo wörld\n")
  }

  func testGarbageInputNeverCrashes() throws {
    let junk = "\u{0}\u{1}\u{7F}\n))))\n}}}\n\\\n:\n::\n: time\n:time\n:load\n@#$%\n\u{FFFD}\u{1F600}\n"
    let r = try run(junk + "print(\"still here\")\n")
    XCTAssertTrue(r.stdout.hasSuffix("still here\n"), r.stdout + r.stderr)
    XCTAssertEqual(r.status, 1)
  }
}
