import Foundation
import XCTest

/// The REPL in a real pseudo-terminal (tmux), typed at like a person would.
final class TerminalTests: XCTestCase {
  var dir = ""
  var historyPath: String { dir + "/history" }

  override func setUpWithError() throws {
    dir = try makeTempDirectory(self)
  }

  func start(_ environment: [String: String]? = nil) throws -> TerminalSession {
    let t = try TerminalSession(
      mp: try mpBinary(), directory: dir,
      environment: environment ?? ["MP_HISTORY": historyPath, "LANG": "C.UTF-8"], test: self)
    try expect(t.waitForLastLine("mp>"), "no first prompt")
    return t
  }

  /// Asserts a wait succeeded, showing the screen when it did not.
  func expect(_ r: (ok: Bool, screen: String), _ what: String, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertTrue(r.ok, "\(what); screen was:\n\(r.screen)", file: file, line: line)
  }

  /// Enters `expression` (a pid) and reads its value off the screen.
  func shownPid(_ t: TerminalSession, _ expression: String) throws -> pid_t {
    // At a fresh prompt, so that no type-ahead is echoed into the line.
    try expect(t.waitForLastLine("mp>"), "no prompt before \(expression)")
    try enter(t, expression)
    let escaped = NSRegularExpression.escapedPattern(for: expression)
    let shown = try t.waitFor { $0.range(of: "mp> \(escaped)\n[0-9]+\nmp>$", options: .regularExpression) != nil }
    expect(shown, "no pid shown for \(expression)")
    let lines = shown.screen.components(separatedBy: "\n")
    return try XCTUnwrap(pid_t(lines[max(0, lines.count - 2)]), shown.screen)
  }

  /// Waits (at most 5 s) until `pid` is asleep in a system call, seen
  /// twice a few milliseconds apart (see MPProcess.swift's waitUntilBlocked).
  func waitUntilAsleep(_ pid: pid_t) {
    let deadline = Date().addingTimeInterval(5)
    var seen = 0
    while Date() < deadline, seen < 2 {
      let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
      let state = stat.lastIndex(of: ")").map { stat[stat.index($0, offsetBy: 2)] }
      seen = state == "S" ? seen + 1 : 0
      usleep(3_000)
    }
  }

  /// Types a line and presses Enter.
  ///
  /// First it waits (at most 5 s, without failing) for a bare prompt:
  /// keys typed while mp still runs the previous line are echoed by the
  /// terminal and again by the line editor ("}...> }"), as in any shell.
  /// `atPrompt: false` finishes a line already partly typed.
  func enter(_ t: TerminalSession, _ text: String, atPrompt: Bool = true) throws {
    if atPrompt { _ = try t.waitFor { ["mp>", "...>"].contains($0.components(separatedBy: "\n").last ?? "") } }
    try t.type(text)
    try t.press("Enter")
  }

  func testMultiLineFunctionUsesTheContinuationPrompt() throws {
    let t = try start()
    try enter(t, "fn sq(a) {")
    try expect(t.waitForLastLine("...>"), "no continuation prompt")
    // Tab on a blank continuation line indents.
    try t.press("Tab")
    try expect(t.waitForLastLine("...>"), "Tab did something odd on a blank line")
    try enter(t, "return a * a")
    try enter(t, "}")
    try expect(t.waitForLastLine("mp>"), "no prompt after the block")
    try enter(t, "sq(7)")
    let r = try t.waitFor { $0.contains("mp> sq(7)\n49\nmp>") }
    expect(r, "sq(7) did not give 49")
    XCTAssertTrue(r.screen.contains("mp> fn sq(a) {\n...>     return a * a\n...> }"), r.screen)
  }

  func testTabCompletesABuiltin() throws {
    let t = try start()
    try t.type("pri")
    try t.press("Tab")
    try expect(t.waitForLastLine("mp> print("), "Tab did not complete print(")
    try enter(t, "\"tabbed\")", atPrompt: false)
    try expect(t.waitFor { $0.contains("mp> print(\"tabbed\")\ntabbed\nmp>") }, "completed call did not run")
  }

  func testTabCompletesMethodsAfterADot() throws {
    let t = try start()
    try enter(t, "let xs = [1]")
    try expect(t.waitForLastLine("mp>"), "no prompt after let")
    try t.type("xs.pu")
    try t.press("Tab")
    try expect(t.waitForLastLine("mp> xs.push("), "no method completion")
    try enter(t, "2)", atPrompt: false)
    try enter(t, "xs")
    try expect(t.waitFor { $0.contains("\n[1, 2]\nmp>") }, "push did not run")
  }

  func testUpRecallsALine() throws {
    let t = try start()
    try enter(t, "40 + 2")
    try expect(t.waitFor { $0.hasSuffix("42\nmp>") }, "no result")
    try t.press("Up")
    try expect(t.waitForLastLine("mp> 40 + 2"), "Up did not recall the line")
    try t.press("Enter")
    try expect(t.waitFor { $0.components(separatedBy: "\n42\n").count == 3 }, "recalled line did not run again")
  }

  func testCtrlRSearchesTheHistory() throws {
    let t = try start()
    try enter(t, "print(\"found \" + \"it\")")
    try enter(t, "1 + 1")
    try expect(t.waitFor { $0.hasSuffix("\n2\nmp>") }, "no result")
    try t.press("C-r")
    try t.type("found")
    try expect(t.waitFor { $0.contains("mp> print(\"found \" + \"it\")\nfound it\nmp> 1 + 1\n2\nmp> print(") }, "Ctrl-R did not find the line")
    try t.press("Enter")
    try expect(t.waitFor { $0.components(separatedBy: "\nfound it\n").count == 3 }, "the found line did not run")
  }

  func testCtrlCStopsARunningStatementWithinASecond() throws {
    let t = try start()
    try enter(t, "let kept = 7")
    let mp = try shownPid(t, "pid()")
    try enter(t, "print(\"going\"); sleep(10)")
    try expect(t.waitForLastLine("going"), "statement not started")
    // Interrupt the statement once it is in its sleep (it printed, so it
    // no longer reads the prompt).
    waitUntilAsleep(mp)
    let pressed = Date()
    try t.press("C-c")
    let r = try t.waitFor(timeout: 3) { $0.hasSuffix("interrupted\nmp>") }
    let elapsed = Date().timeIntervalSince(pressed)
    expect(r, "no 'interrupted' and prompt")
    XCTAssertLessThan(elapsed, 1.0, "the prompt took \(elapsed) s to come back")
    try enter(t, "kept * 6")
    try expect(t.waitFor { $0.hasSuffix("\n42\nmp>") }, "the session lost its bindings")
  }

  func testCtrlCAtThePromptClearsTheLine() throws {
    let t = try start()
    try t.type("this is not mp")
    try expect(t.waitForLastLine("mp> this is not mp"), "typing not shown")
    try t.press("C-c")
    try expect(t.waitForLastLine("mp>"), "Ctrl-C did not give a fresh prompt")
    try enter(t, "fn half(x) {")
    try expect(t.waitForLastLine("...>"), "no continuation prompt")
    try t.press("C-c")
    try expect(t.waitForLastLine("mp>"), "Ctrl-C did not abandon the entry")
    try enter(t, "1 + 2")
    let r = try t.waitFor { $0.hasSuffix("mp> 1 + 2\n3\nmp>") }
    expect(r, "the line after Ctrl-C did not run on its own")
    XCTAssertFalse(r.screen.contains("error"), r.screen)
  }

  /// Ctrl-D with a child running says it waits; Ctrl-C then gave nothing
  /// back (the wait ignored it, what was typed next was lost, and mp left
  /// with 0 once the child ended). Now Ctrl-C returns to the prompt.
  func testCtrlCDuringTheWaitAtCtrlDGoesBackToThePrompt() throws {
    let t = try start()
    try enter(t, "let bg = spawn(sleep, 30)")
    try expect(t.waitForLastLine("mp>"), "no prompt after spawn")
    try t.press("C-d")
    try expect(t.waitFor { $0.contains("waiting for 1 child process") }, "no waiting message")
    try t.press("C-c")
    try expect(t.waitFor { $0.contains("interrupted") && $0.hasSuffix("mp>") }, "Ctrl-C did not go back to the prompt")
    try enter(t, "bg.alive")
    try expect(t.waitFor { $0.hasSuffix("mp> bg.alive\ntrue\nmp>") }, "the session did not go on")
    try enter(t, ":quit!")
    XCTAssertEqual(t.exitStatus(timeout: 10), 0)
  }

  func testCtrlDExitsZeroAndHistorySurvivesARestart() throws {
    let t = try start()
    try enter(t, "let remembered = 1")
    try enter(t, "fn two() {")
    try enter(t, "  return 2")
    try enter(t, "}")
    try expect(t.waitForLastLine("mp>"), "no prompt")
    try t.press("C-d")
    XCTAssertEqual(t.exitStatus(), 0)
    t.stop()

    var st = stat()
    XCTAssertEqual(stat(historyPath, &st), 0, "no history file")
    XCTAssertEqual(st.st_mode & 0o777, 0o600)
    let text = try String(contentsOfFile: historyPath, encoding: .utf8)
    XCTAssertTrue(text.contains("remembered"), text)

    let again = try start()
    try again.press("Up")
    try expect(again.waitFor { $0.hasSuffix("mp> fn two() {\n  return 2\n}") }, "the multi-line entry was not recalled whole")
    try again.press("Up")
    try expect(again.waitForLastLine("mp> let remembered = 1"), "the older line was not recalled")
    // Ctrl-D leaves from an empty line; on a line with text the editor
    // takes it as delete-char, as shells do. So: Ctrl-C clears the line.
    try again.press("C-c")
    try expect(again.waitForLastLine("mp>"), "Ctrl-C did not clear the recalled line")
    try again.press("C-d")
    XCTAssertEqual(again.exitStatus(), 0)
  }

  func testDefaultHistoryFileIsInHome() throws {
    let t = try start(["HOME": dir, "LANG": "C.UTF-8"])
    try enter(t, "1")
    try expect(t.waitFor { $0.hasSuffix("1\nmp>") }, "no result")
    try t.press("C-d")
    XCTAssertEqual(t.exitStatus(), 0)
    XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/.mp_history"))
  }

  func testErrorsShowACaretAndTheSessionGoesOn() throws {
    let t = try start()
    try enter(t, "let a = 1")
    try enter(t, "a + nope")
    let r = try t.waitFor { $0.hasSuffix("^\nmp>") }
    expect(r, "no error shown")
    XCTAssertTrue(r.screen.contains("<repl>:2:5: error: undefined name 'nope'"), r.screen)
    try enter(t, "a + 1")
    try expect(t.waitFor { $0.hasSuffix("\n2\nmp>") }, "session did not go on")
  }

  /// Under `env -i` the locale is C, where libedit would drop non-ASCII bytes.
  func testNonASCIIInputWithoutALocale() throws {
    let t = try start(["MP_HISTORY": historyPath])
    try enter(t, "\"héllo\"")
    try expect(t.waitFor { $0.contains("\n\"héllo\"\nmp>") }, "non-ASCII input was mangled")
  }

  func testCommands() throws {
    let t = try start()
    try t.type(":he")
    try t.press("Tab")
    try expect(t.waitForLastLine("mp> :help"), "command not completed")
    try t.press("Enter")
    try expect(t.waitFor { $0.contains("zip(") && $0.hasSuffix("mp>") }, ":help did not list the built-ins")
    try enter(t, ":frobnicate")
    try expect(t.waitFor { $0.contains("unknown command ':frobnicate'") }, "no message for an unknown command")
    try enter(t, ":time sleep(0.1)")
    try expect(t.waitFor { $0.contains("time: wall 0.1") && $0.hasSuffix("mp>") }, "no timing line")
    try enter(t, ":quit")
    XCTAssertEqual(t.exitStatus(), 0)
  }

  func testCtrlDSaysItWaitsForChildren() throws {
    let t = try start()
    // The child sleeps far longer than the test; the test ends it once
    // the message is on the screen (a short sleep could end before Ctrl-D
    // on a loaded machine, a long one would cost its length every run).
    try enter(t, "fn w() { sleep(60) }")
    // Spawned and shown in one entry: nothing is typed while the child
    // runs (typing then is testChildOutputWhileTyping's business).
    let child = try shownPid(t, "let p = spawn(w); print(p.pid)")
    try t.press("C-d")
    try expect(t.waitFor { $0.contains("waiting for 1 child process to end") }, "no word about the child")
    XCTAssertNil(t.exitStatus(timeout: 0.2), "mp did not wait for its child")
    kill(child, SIGKILL)
    XCTAssertEqual(t.exitStatus(timeout: 10), 0)
  }

  func testQuitBangDoesNotWaitForChildren() throws {
    let t = try start()
    try enter(t, "fn w() { sleep(60) }")
    try enter(t, "let p = spawn(w)")
    try expect(t.waitForLastLine("mp>"), "spawn did not return")
    let started = Date()
    try enter(t, ":quit!")
    XCTAssertEqual(t.exitStatus(timeout: 10), 0)
    XCTAssertLessThan(Date().timeIntervalSince(started), 5, ":quit! waited for the child")
  }

  /// A child printing while the user types: its line gets a row of its
  /// own, the prompt and what was typed come back below it (not
  /// `mp> let abc = 12tick 3`), and the finished line still runs.
  func testChildOutputWhileTypingRedrawsThePromptAndTheTypedText() throws {
    let t = try start()
    try enter(t, "fn tick() { for i in range(100) { sleep(0.1); print(\"tick {i}\") } }")
    try enter(t, "let p = spawn(tick)")
    try expect(t.waitFor { $0.contains("\ntick 0\n") }, "the child did not print")
    try t.type("let abc = 12")
    let typed = try t.waitFor { $0.hasSuffix("\nmp> let abc = 12") }
    expect(typed, "the typed text is not shown")
    // Wait for a tick printed after the typing, with the prompt redrawn.
    let before = TerminalTests.ticks(typed.screen).max() ?? -1
    let r = try t.waitFor { (TerminalTests.ticks($0).max() ?? -1) > before && $0.hasSuffix("\nmp> let abc = 12") }
    expect(r, "no prompt and typed text redrawn after the child's line")
    let statements = ["mp> fn tick() {", "mp> let p = spawn(tick)"]
    for row in r.screen.split(separator: "\n") where row.contains("tick") {
      let whole = TerminalTests.tick(row) != nil || statements.contains { row.hasPrefix($0) }
      XCTAssertTrue(whole, "a torn row: \(row)\n\(r.screen)")
    }
    try enter(t, "3", atPrompt: false)
    try enter(t, "abc + 1")
    try expect(t.waitFor { $0.contains("\n124\n") }, "the completed line did not run")
    // The same at a continuation prompt.
    try enter(t, "fn twice(x) {")
    try t.type("return x")
    let cont = try t.waitFor { $0.hasSuffix("\n...> return x") }
    expect(cont, "the continuation line is not shown")
    let seen = TerminalTests.ticks(cont.screen).max() ?? -1
    try expect(t.waitFor { (TerminalTests.ticks($0).max() ?? -1) > seen && $0.hasSuffix("\n...> return x") },
               "the continuation prompt and its text were not redrawn")
    try enter(t, " * 2", atPrompt: false)
    try enter(t, "}")
    try enter(t, "twice(21)")
    try expect(t.waitFor { $0.contains("\n42\n") }, "the function typed across the child's lines did not work")
    try enter(t, ":quit!")
    XCTAssertEqual(t.exitStatus(timeout: 10), 0)
  }

  /// "tick 12" → 12; nil for any other row.
  static func tick(_ row: Substring) -> Int? {
    guard row.hasPrefix("tick ") else { return nil }
    return Int(row.dropFirst(5))
  }

  static func ticks(_ screen: String) -> [Int] {
    screen.split(separator: "\n").compactMap(tick)
  }
}
