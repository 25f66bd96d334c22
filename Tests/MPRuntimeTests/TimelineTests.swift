import XCTest
@testable import MPRuntime

/// The timeline, the Chrome trace and the deadlock rule, from fixed event
/// lists and process tables: no process is forked here.
final class TimelineTests: XCTestCase {
  typealias E = Trace.Event

  /// The tutorial's first picture: main spawns two sleepers and its script
  /// ends at once; mp then waits for them.
  static let noJoin: [E] = [
    E(0.00, 100, .processStart, object: 1, name: "main"),
    E(0.01, 100, .spawn, object: 101),
    E(0.01, 101, .processStart, object: 100, name: "sleepy"),
    E(0.02, 100, .spawn, object: 102),
    E(0.02, 102, .processStart, object: 100, name: "sleepy"),
    E(0.02, 101, .waitBegin, object: 0, arg: Int(ProcessTable.WaitKind.sleep.rawValue)),
    E(0.03, 102, .waitBegin, object: 0, arg: Int(ProcessTable.WaitKind.sleep.rawValue)),
    E(0.04, 100, .scriptEnd),
    E(0.04, 100, .waitBegin, object: 101, arg: Int(ProcessTable.WaitKind.join.rawValue)),
    E(0.52, 101, .waitEnd, object: 0, arg: Int(ProcessTable.WaitKind.sleep.rawValue)),
    E(0.53, 102, .waitEnd, object: 0, arg: Int(ProcessTable.WaitKind.sleep.rawValue)),
    E(0.53, 101, .processEnd, arg: 0),
    E(0.54, 102, .processEnd, arg: 0),
    E(0.54, 100, .reaped, object: 101, arg: 0),
    E(0.55, 100, .waitEnd, object: 101, arg: Int(ProcessTable.WaitKind.join.rawValue)),
    E(0.55, 100, .reaped, object: 102, arg: 0),
  ]

  func testNoJoinTimelineShowsMainEndingBeforeItsChildren() {
    let text = Timeline.render(TraceModel(events: Self.noJoin, start: 0, end: 0.6), width: 62)
    XCTAssertEqual(text, """
      100 main              |===                                   |
      101 sleepy            |=................................=    |
      102 sleepy            | =................................=   |
                             +------------+-----------+------------
                             0 ms         200 ms      400 ms       600 ms
      legend: = running  . sleeping
      wall 600 ms, 3 processes

      """)
  }

  static func kind(_ k: ProcessTable.WaitKind) -> Int { Int(k.rawValue) }

  /// Two workers and one lock: the holders one after another, the second
  /// waiting for the lock meanwhile.
  static let oneLock: [E] = [
    E(0.0, 200, .processStart, name: "main"),
    E(0.0, 201, .processStart, object: 200, name: "worker"),
    E(0.0, 202, .processStart, object: 200, name: "worker"),
    E(0.0, 200, .waitBegin, object: 201, arg: TimelineTests.kind(.join)),
    E(0.1, 201, .lockAcquired, object: 3),
    E(0.1, 202, .waitBegin, object: 3, arg: TimelineTests.kind(.lock)),
    E(0.5, 201, .lockReleased, object: 3),
    E(0.5, 202, .waitEnd, object: 3, arg: TimelineTests.kind(.lock)),
    E(0.5, 202, .lockAcquired, object: 3),
    E(0.5, 201, .processEnd),
    E(0.5, 200, .waitEnd, object: 201, arg: TimelineTests.kind(.join)),
    E(0.5, 200, .waitBegin, object: 202, arg: TimelineTests.kind(.join)),
    E(0.9, 202, .lockReleased, object: 3),
    E(1.0, 202, .processEnd),
    E(1.0, 200, .waitEnd, object: 202, arg: TimelineTests.kind(.join)),
  ]

  func testLockTimelineShowsHoldersOneAfterAnother() {
    let text = Timeline.render(TraceModel(events: Self.oneLock, start: 0, end: 1.0), width: 62)
    XCTAssertEqual(text, """
      200 main              |JJJJJJJJJJJJJJJJJJJJJJJJJJJJJJJJJJJJJJ|
      201 worker            |====###############                   |
      202 worker            |====LLLLLLLLLLLLLLL###############====|
                             +------------------+------------------
                             0 ms               500 ms             1 s
      legend: = running  # holding lock 3  L waiting for a lock  J waiting to join
      wall 1 s, 3 processes

      """)
  }

  /// Two locks held at once are told apart by digits in the legend.
  func testSeveralLocksGetADigitEach() {
    let events: [E] = [
      E(0.0, 300, .processStart, name: "philosopher"),
      E(0.1, 300, .lockAcquired, object: 4),
      E(0.3, 300, .lockAcquired, object: 7),
      E(0.6, 300, .lockReleased, object: 7),
      E(0.8, 300, .lockReleased, object: 4),
    ]
    let text = Timeline.render(TraceModel(events: events, start: 0, end: 1.0), width: 42)
    XCTAssertEqual(text, """
      300 philosopher       |==11112222221111====|
                             +-------------------
                             0 s                 1 s
      legend: = running  1 holding lock 4  2 holding lock 7
      wall 1 s, 1 process

      """)
  }

  /// A pool worker's items are numbered where they start; waits show on what.
  func testPoolItemsAreNumberedAndWaitsSayOnWhat() {
    let events: [E] = [
      E(0.0, 400, .processStart, name: "main"),
      E(0.0, 401, .processStart, object: 400, name: "pool worker"),
      E(0.0, 400, .waitBegin, object: 9, arg: TimelineTests.kind(.queueGet)),
      E(0.0, 401, .taskStart, object: 0),
      E(0.4, 401, .taskEnd, object: 0),
      E(0.4, 401, .taskStart, object: 12),
      E(0.9, 401, .taskEnd, object: 12),
      E(0.9, 401, .waitBegin, object: 1, arg: TimelineTests.kind(.queueGet)),
      E(1.0, 400, .waitEnd, object: 9, arg: TimelineTests.kind(.queueGet)),
    ]
    let text = Timeline.render(TraceModel(events: events, start: 0, end: 1.0), width: 42)
    XCTAssertEqual(text, """
      400 main              |QQQQQQQQQQQQQQQQQQQQ|
      401 pool worker       |0=======12========QQ|
                             +-------------------
                             0 s                 1 s
      legend: = running  0-9 index of the pool item starting there  Q waiting on a queue
      wall 1 s, 2 processes

      """)
  }

  // MARK: Chrome trace

  func testChromeTraceHasATrackPerProcessAndSpansNest() throws {
    let events = Self.oneLock + [
      // A hold that outlives the wait it began in must still nest.
      E(0.6, 202, .waitBegin, object: 5, arg: TimelineTests.kind(.queueGet)),
      E(0.7, 202, .lockAcquired, object: 8),
      E(0.75, 202, .waitEnd, object: 5, arg: TimelineTests.kind(.queueGet)),
      E(0.8, 202, .lockReleased, object: 8),
    ].sorted { $0.time < $1.time }
    let json = ChromeTrace.json(TraceModel(events: events, start: 0, end: 1.0))
    try Self.checkChromeTrace(json, pids: [200, 201, 202])
  }

  /// Parses `json` as Chrome trace-event JSON; checks every pid has a named
  /// track and its "X" spans nest (each inside the one it starts in).
  static func checkChromeTrace(_ json: String, pids: Set<Int>, file: StaticString = #filePath, line: UInt = #line) throws {
    let root = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any], file: file, line: line)
    let events = try XCTUnwrap(root["traceEvents"] as? [[String: Any]], file: file, line: line)
    var named = Set<Int>()
    var spans: [Int: [(Double, Double)]] = [:]
    for e in events {
      let ph = e["ph"] as? String, pid = e["pid"] as? Int ?? -1
      if ph == "M", e["name"] as? String == "process_name" { named.insert(pid) }
      if ph == "X" {
        let ts = try XCTUnwrap(e["ts"] as? Double ?? (e["ts"] as? Int).map(Double.init), file: file, line: line)
        let dur = try XCTUnwrap(e["dur"] as? Double ?? (e["dur"] as? Int).map(Double.init), file: file, line: line)
        XCTAssertGreaterThanOrEqual(dur, 0, file: file, line: line)
        spans[pid, default: []].append((ts, ts + dur))
      }
    }
    XCTAssertTrue(pids.isSubset(of: named), "tracks: \(named), wanted \(pids)", file: file, line: line)
    for pid in pids { XCTAssertFalse(spans[pid, default: []].isEmpty, "no spans for \(pid)", file: file, line: line) }
    for (pid, list) in spans {
      let sorted = list.sorted { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 > $1.1 }
      var stack: [(Double, Double)] = []
      for s in sorted {
        while let top = stack.last, top.1 <= s.0 + 1e-6 { stack.removeLast() }
        if let top = stack.last {
          XCTAssertLessThanOrEqual(s.1, top.1 + 1e-6, "pid \(pid): span \(s) overlaps \(top) without nesting", file: file, line: line)
        }
        stack.append(s)
      }
    }
  }

  // MARK: deadlock rule

  static func info(_ pid: Int32, _ kind: ProcessTable.WaitKind, _ target: Int = 0, timed: Bool = false,
                   state: ProcessTable.State = .waiting) -> ProcessTable.Info {
    ProcessTable.Info(pid: pid, ppid: 1, state: state, waitKind: kind, waitTarget: target, age: 1, name: "p\(pid)", timed: timed)
  }

  /// Locks 1 and 2: 11 holds 1 and 12 holds 2.
  static func holders(_ w: ProcessTable.Info) -> WaitGraph.Wakers {
    switch w.waitKind {
    case .lock: return .process(w.waitTarget == 1 ? 11 : 12)
    case .join: return .process(Int32(w.waitTarget))
    case .sleep: return .proceeds
    default: return .anyone
    }
  }

  func testACycleOfLockHoldersWithMainJoiningIsADeadlock() {
    let table = [Self.info(10, .join, 11), Self.info(11, .lock, 2), Self.info(12, .lock, 1)]
    XCTAssertEqual(Deadlock.find(table, me: 10, wakers: Self.holders)?.count, 3)
  }

  func testOneRunningProcessMeansNoDeadlock() {
    let table = [Self.info(10, .join, 11), Self.info(11, .lock, 2), Self.info(12, .none, state: .running)]
    XCTAssertNil(Deadlock.find(table, me: 10, wakers: Self.holders))
  }

  func testATimedWaitOrASleepIsNoDeadlock() {
    XCTAssertNil(Deadlock.find([Self.info(10, .join, 11), Self.info(11, .lock, 2, timed: true), Self.info(12, .lock, 1)],
                               me: 10, wakers: Self.holders))
    XCTAssertNil(Deadlock.find([Self.info(10, .join, 11), Self.info(11, .sleep)], me: 10, wakers: Self.holders))
  }

  func testAWaitOnAProcessThatIsGoneIsNoDeadlock() {
    // 12 has exited: joining it, or taking the lock it held, will go on.
    let table = [Self.info(10, .join, 12), Self.info(12, .none, state: .exited)]
    XCTAssertNil(Deadlock.find(table, me: 10, wakers: Self.holders))
  }

  func testMainAloneOnAnEmptyQueueIsADeadlock() {
    XCTAssertEqual(Deadlock.find([Self.info(10, .queueGet, 5)], me: 10, wakers: Self.holders)?.count, 1)
  }

  func testTwoLooksInsideOneWaitConfirmADeadlock() {
    var c = Deadlock.Confirmation()
    XCTAssertFalse(c.look([11: 3], epoch: 7, now: 100))
    XCTAssertFalse(c.look([11: 3], epoch: 7, now: 100.1), "confirmed before 0.25 s")
    XCTAssertTrue(c.look([11: 3], epoch: 7, now: 100.3))
    // Confirmed once, then it starts again from nothing.
    XCTAssertFalse(c.look([11: 3], epoch: 7, now: 100.6))
  }

  func testALookFromAnEarlierWaitConfirmsNothing() {
    // A pool call saw main alone (its dead workers reaped, not yet
    // replaced); main then went on and, seconds later, waited again in the
    // same state: the old look must not count (main had no time to act).
    var c = Deadlock.Confirmation()
    XCTAssertFalse(c.look([:], epoch: 1, now: 100))
    XCTAssertFalse(c.look([:], epoch: 4, now: 103))
    XCTAssertFalse(c.look([:], epoch: 4, now: 103.1))
    XCTAssertTrue(c.look([:], epoch: 4, now: 103.3))
  }

  func testWaitsThatChangedOrAGoodLookStartOver() {
    var c = Deadlock.Confirmation()
    XCTAssertFalse(c.look([11: 3], epoch: 1, now: 100))
    XCTAssertFalse(c.look([11: 4], epoch: 1, now: 100.3), "11 changed its wait")
    XCTAssertFalse(c.look(nil, epoch: 1, now: 100.6))
    XCTAssertFalse(c.look([11: 4], epoch: 1, now: 100.9), "a look that found no deadlock came between")
    XCTAssertTrue(c.look([11: 4], epoch: 1, now: 101.2))
  }
}
