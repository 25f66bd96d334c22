import XCTest
@testable import MPLanguage
@testable import MPRuntime

/// The arena in this (test) process: no fork needed to check reuse.
final class ArenaTests: XCTestCase {
  /// The first class of this module to run: the traced examples, which
  /// mostly sleep, start now and are done by the time their tests run.
  override class func setUp() {
    super.setUp()
    TraceEndToEndTests.startEarly()
  }

  override func setUpWithError() throws {
    // 64 MiB: the test that fills the arena copies that much. The first
    // install in this process wins (ReferenceManualTests asks the same).
    try Runtime.install(arenaSize: 1 << 26)
    _ = Interpreter(mainFile: "arena.mp")
  }

  func testDroppedQueuesAndLocksGiveTheirSpaceBack() throws {
    for _ in 0..<50 { _ = try QueueHandle(maxsize: 0) }
    let before = Arena.shared.highWater
    for i in 0..<20_000 {
      let q = try QueueHandle(maxsize: 0)
      try q.put(.str("item \(i)"), timeout: nil)
      _ = try LockHandle()
      _ = try SharedCellHandle(.str("cell"))
    }
    XCTAssertLessThan(Arena.shared.highWater - before, 64 * 1024, "space of dropped objects was not reused")
  }

  func testAQueueFreesItsUnreadItemsWhenDropped() throws {
    let payload = Value.str(String(repeating: "z", count: 100_000))
    do {
      let q = try QueueHandle(maxsize: 0)
      for _ in 0..<10 { try q.put(payload, timeout: nil) }
    }
    let before = Arena.shared.highWater
    for _ in 0..<50 {
      let q = try QueueHandle(maxsize: 0)
      for _ in 0..<10 { try q.put(payload, timeout: nil) }
    }
    XCTAssertLessThan(Arena.shared.highWater - before, 4 << 20)
  }

  func testRunningOutOfArenaIsAnErrorNotACrash() throws {
    var kept: [QueueHandle] = []
    let q = try QueueHandle(maxsize: 0)
    kept.append(q)
    let big = Value.str(String(repeating: "x", count: 8 << 20))
    var failure: MPError? = nil
    for _ in 0..<100 {
      do { try q.put(big, timeout: nil) } catch let e as MPError {
        failure = e
        break
      }
    }
    let e = try XCTUnwrap(failure, "a 64 MiB arena took 800 MiB")
    XCTAssertTrue(e.message.contains("arena is full") || e.message.contains("cannot allocate"), e.message)
    while (try? q.get(timeout: 0)) != nil {}
  }
}

final class LockWarningTests: XCTestCase {
  func testADeadHolderIsNamedOnStderr() throws {
    let mp = try MPProcess(script: """
      fn grab(l, q) {
        acquire(l)
        q.put(1)
        sleep(30)
      }
      let l = lock()
      let q = queue()
      let p = spawn(grab, l, q)
      q.get()
      p.kill()
      print(acquire(l, 2))
      """)
    defer { mp.cleanup() }
    XCTAssertEqual(mp.readLine(), "true")
    XCTAssertEqual(mp.wait(), 0)
    XCTAssertTrue(mp.errText.contains("was held by process") && mp.errText.contains("(grab), which died"), mp.errText)
  }
}
