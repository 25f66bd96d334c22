import Foundation
import MPTestSupport
import XCTest

/// `mp test` end to end: the built binary runs scripts written to a
/// temporary folder (fork-based runs never happen inside this process).
final class RunnerTests: XCTestCase {
  var dir = ""

  override func setUpWithError() throws {
    dir = NSTemporaryDirectory() + "mp-test-runner-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
  }

  override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

  func write(_ name: String, _ text: String) throws {
    try text.write(toFile: dir + "/" + name, atomically: true, encoding: .utf8)
  }

  func mpTest(_ args: [String]) throws -> (status: Int32, out: String) {
    let mp = try BuiltBinary.path()
    let outPath = dir + "/.out"
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)
    let argv = [mp, "test"] + args
    let cArgs = argv.map { strdup($0) } + [nil]
    defer { cArgs.forEach { free($0) } }
    var pid: pid_t = 0
    XCTAssertEqual(posix_spawn(&pid, mp, &actions, nil, cArgs, environ), 0)
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    let out = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
    return ((status >> 8) & 0xff, out)
  }

  func testATimeoutShowsTheOutputSoFarAndWhatEachProcessWaitsOn() throws {
    try write("hang.mp", """
      fn consumer(q) {
        for x in q { print("got", x) }
      }
      let q = queue()
      let c = spawn(consumer, q)
      # A sleeper keeps this from being a deadlock, which mp would report.
      spawn(fn() { while true { sleep(0.2) } })
      q.put(1)
      join(c)                       # nobody closes q: the consumer never ends
      # expect: got 1

      """)
    // A short timeout first; on a loaded machine the script may not have
    // reached its hang by then (no "got 1" yet), and only then is it run
    // again with a longer one. The checks are the same for every length.
    var r = (status: Int32(0), out: "")
    var timeout = ""
    for t in ["0.3", "1.5", "5"] {
      timeout = t
      r = try mpTest(["--timeout", t, dir + "/hang.mp"])
      if r.out.contains("     got 1") && r.out.contains(" consumer: waiting") { break }
    }
    XCTAssertEqual(r.status, 1, r.out)
    XCTAssertTrue(r.out.contains("timed out after \(timeout) s"), r.out)
    XCTAssertTrue(r.out.contains("stdout so far:\n     got 1"), r.out)
    XCTAssertTrue(r.out.contains(" main: waiting to join process "), r.out)
    XCTAssertTrue(r.out.contains(" consumer: waiting to get from queue "), r.out)
    XCTAssertTrue(r.out.contains("(empty, not closed)"), r.out)
    XCTAssertTrue(r.out.contains("forget close()"), r.out)
    // The run is killed once the list has arrived (its last line says so):
    // the list is whole — the sleeper, last in the table, is in it — and
    // that last line is not shown.
    XCTAssertTrue(r.out.contains(": sleeping"), r.out)
    XCTAssertFalse(r.out.contains("end of the list of live processes"), r.out)
  }

  func testAFileThatChecksNothingIsRefused() throws {
    try write("nothing.mp", "print(\"hello\")  # prints, but nobody looks\n")
    let r = try mpTest([dir + "/nothing.mp"])
    XCTAssertEqual(r.status, 1, r.out)
    XCTAssertTrue(r.out.contains("checks nothing"), r.out)
    XCTAssertTrue(r.out.contains("0 passed, 1 failed"), r.out)
  }

  func testVerboseListsSkippedFiles() throws {
    try write("helper.mp", "# mp test: skip (imported by others)\nlet x = 1\n")
    try write("real.mp", "print(1)  # expect: 1\n")
    let quiet = try mpTest([dir])
    XCTAssertFalse(quiet.out.contains("helper.mp"), quiet.out)
    XCTAssertTrue(quiet.out.contains("1 passed, 0 failed, 1 skipped"), quiet.out)
    let loud = try mpTest(["-v", dir])
    XCTAssertTrue(loud.out.contains("skip \(dir)/helper.mp"), loud.out)
    XCTAssertTrue(loud.out.contains("ok   \(dir)/real.mp"), loud.out)
  }

  func testExpectErrorMatchesTheKindOfAnUncaughtError() throws {
    // The message says nothing of "user": only the kind does.
    try write("thrown.mp", "throw \"boom\"\n# expect error: user\n")
    try write("wrong.mp", "throw \"boom\"\n# expect error: zero\n")
    let r = try mpTest([dir])
    XCTAssertFalse(r.out.contains("FAIL \(dir)/thrown.mp"), r.out)
    XCTAssertTrue(r.out.contains("FAIL \(dir)/wrong.mp"), r.out)
    XCTAssertTrue(r.out.contains("kind \"user\""), r.out)
  }

  func testAnUnorderedGroupOfTwoKindsIsWarnedAbout() throws {
    try write("kinds.mp", """
      print("Sleeping 1"); print("Sleeping 2"); print("Finished"); print("Finished")
      # expect unordered: Sleeping 1
      # expect unordered: Sleeping 2
      # expect unordered: Finished
      # expect unordered: Finished

      """)
    let r = try mpTest([dir + "/kinds.mp"])
    XCTAssertEqual(r.status, 0, r.out)
    XCTAssertTrue(r.out.contains("warning: \(dir)/kinds.mp: line 2: this unordered group"), r.out)
  }
}
