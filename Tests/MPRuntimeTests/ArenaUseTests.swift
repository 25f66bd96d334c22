import MPTestSupport
import XCTest

/// Arena objects live while some process refers to them, and no longer
/// (docs/reference.md, "Lifetimes"): making and dropping objects over and
/// over leaves the arena's use flat. The tests that kill processes at
/// random moments run a third of their rounds in a plain `swift test`
/// (all of them under MP_TEST_FULL=1, see TestSize).
final class ArenaUseTests: XCTestCase {
  /// The scripts below run three at a time (ScriptBatch), the long ones
  /// first; each test reads its own run.
  static let batch = ScriptBatch("ArenaUseTests", [
    workerSteps, killedPools, killedProducers, killedLockers, livePool, childrenKilledGivingBack,
    poolsMade, syncObjects, childrenEnd, queueWithHandles, unreadResults, childrenKilledMaking,
    heldLockDropped,
  ])

  override class func tearDown() {
    batch.stop()
    super.tearDown()
  }

  /// A script that runs `body` once, then `rounds` times, then `rounds`
  /// times again, printing the arena's growth after each batch of rounds.
  static func usedAfter(_ test: String, _ rounds: Int, _ body: String) -> ScriptBatch.Script {
    ScriptBatch.Script(test, env: ["MP_DEBUG": "1"], """
      fn round(i) {
      \(body)
      }
      round(0)
      let before = arena_used()
      for i in range(\(rounds)) { round(i) }
      print(arena_used() - before)
      for i in range(\(rounds)) { round(i) }
      print(arena_used() - before)
      """)
  }

  /// The two growths a `usedAfter` script printed.
  func used(_ script: ScriptBatch.Script) throws -> (Int, Int) {
    let out = try lines(script)
    return (Int(out.first ?? "") ?? -1, Int(out.dropFirst().first ?? "") ?? -1)
  }

  /// A script run with arena_used() (MP_DEBUG=1).
  static func withArenaUsed(_ test: String, _ source: String) -> ScriptBatch.Script {
    ScriptBatch.Script(test, env: ["MP_DEBUG": "1"], timeout: 120, source)
  }

  /// The stdout lines of a script's run, which must succeed.
  func lines(_ script: ScriptBatch.Script) throws -> [String] {
    let r = try Self.batch.result(script)
    XCTAssertEqual(r.status, 0, r.err)
    return r.out.split(separator: "\n").map(String.init)
  }

  static let poolsMade = usedAfter("testPoolsMadeAndDroppedGiveTheirSpaceBack", 30, "with pool(2) as p { p.map(fn(x) => x, [1, 2, 3]) }")

  /// A pool's shared words were allocated raw and never freed.
  func testPoolsMadeAndDroppedGiveTheirSpaceBack() throws {
    let (a, b) = try used(Self.poolsMade)
    XCTAssertLessThan(a, 4096)
    XCTAssertEqual(a, b, "arena use grows with every pool")
  }

  static let syncObjects = usedAfter("testSyncObjectsMadeAndDroppedGiveTheirSpaceBack", 200, """
      let q = queue()
      q.put([i, "x" * 100])
      let l = lock()
      with l { }
      let s = semaphore(2)
      let c = shared("cell")
      let e = event()
      let cv = condition()
      let br = barrier(2)
      let arr = shared([1, 2, 3])
      let m = shared({})
      m["k"] = i
      """)

  func testSyncObjectsMadeAndDroppedGiveTheirSpaceBack() throws {
    let (a, b) = try used(Self.syncObjects)
    XCTAssertLessThan(a, 8192)
    XCTAssertEqual(a, b, "arena use grows with every round")
  }

  static let heldLockDropped = withArenaUsed("testALockDroppedWhileHeldKeepsItsCountUntilReleased", """
      let q = queue()
      fn grab() {
        let l = lock()
        acquire(l)
        q.put(l)
      }
      fn round() {
        grab()          # the wrapper goes while the lock is held
        let again = q.get()
        print(again.locked)
        release(again)  # through another wrapper: the kept count goes back
      }
      round()
      let before = arena_used()
      for i in range(20) { round() }
      print(arena_used() - before)
      # Held with no value left for it: kept here, given back by a child's end.
      fn hold() {
        let l = lock()
        acquire(l)
      }
      hold()
      print(arena_used() - before > 0)
      let kept = arena_used()
      join(spawn(hold))
      print(arena_used() - kept)
      """)

  /// A held lock is not freed when this process drops its last value for
  /// it (glibc and the kernel write to a held robust mutex); its count is
  /// kept by the hold and given back by the release, even through a
  /// wrapper made later (LockHandle.holds).
  func testALockDroppedWhileHeldKeepsItsCountUntilReleased() throws {
    let out = try lines(Self.heldLockDropped)
    XCTAssertEqual(out, Array(repeating: "true", count: 21) + ["0", "true", "0"])
  }

  static let queueWithHandles = withArenaUsed("testAQueueDroppedWithHandlesInItsItemsGivesThemBack", """
      fn round() {
        let q = queue()
        let l = lock()
        q.put(l)
        q.put([l, {"inner": queue(), "s": semaphore(1)}, "x" * 100])
        q.put(queue())
      }
      round()
      let before = arena_used()
      for i in range(50) { round() }
      print(arena_used() - before)
      """)

  /// A queue dropped with items still in it freed their blocks but not the
  /// objects those items carried (a lock put in a queue nobody got from
  /// stayed for ever: 128 bytes a round).
  func testAQueueDroppedWithHandlesInItsItemsGivesThemBack() throws {
    let out = try lines(Self.queueWithHandles)
    XCTAssertEqual(out, ["0"])
  }

  static let childrenEnd = usedAfter("testChildrenThatEndGiveBackWhatTheyInherited", 40, """
      let q = queue()
      q.put("x" * 10000)
      join(spawn(fn(q) => q.size(), q))
      let p = spawn(sleep, 10)
      p.kill()
      try { join(p) } catch e { }
      """)

  func testChildrenThatEndGiveBackWhatTheyInherited() throws {
    let (a, b) = try used(Self.childrenEnd)
    XCTAssertLessThan(a, 8192)
    XCTAssertEqual(a, b, "arena use grows with every child")
  }

  static let livePool = withArenaUsed("testALivePoolDoesNotGrowWithEveryCall", """
      fn sq(x) => x * x
      # Workers finish their bookkeeping after a map has its results (a
      # worker lets go of its chunk and its count on the call's reply queue
      # before it asks for the next task): read the arena once all three
      # wait for a task. (Two equal readings 20 ms apart were not enough: a
      # worker not scheduled for 20 ms on a loaded machine gave -32.)
      fn settled() {
        while len([r for r in ps() if r["waits"] == "a task from its pool (none queued)"]) < 3 { sleep(0.005) }
        return arena_used()
      }
      let p = pool(3)
      for i in range(20) { p.map(sq, range(40)) }
      let a = settled()
      for i in range(400) { p.map(sq, range(40)) }
      print(settled() - a)
      """)

  /// A pool worker wrote down every reply queue it decoded and never
  /// reused the crossed-out entries: a live pool grew by ~80 bytes a call.
  /// (Read as soon as a map returned, the arena could still hold a
  /// worker's last chunk: +32 or -2,560 bytes once in a few dozen runs on
  /// a loaded machine.)
  func testALivePoolDoesNotGrowWithEveryCall() throws {
    let out = try lines(Self.livePool)
    XCTAssertEqual(out, ["0"])
  }

  static let killedLockers = withArenaUsed("testLockersKilledInsideWithLeakNothing", """
      fn locker(l) { while true { with l { let x = 1 } } }
      fn round(t) {
        let l = lock()
        let p = spawn(locker, l)
        sleep(t)
        p.kill()
        try { join(p) } catch e { }
      }
      round(0.01)
      let before = arena_used()
      for i in range(\(TestSize.pick(20, 60))) { round(0.005 + (i % 5) * 0.003) }
      print(arena_used() - before)
      """)

  /// Killing lockers inside `with l { }` leaked the whole lock in ~15% of
  /// the kills (a window between taking the mutex and writing the hold
  /// down); taking and releasing now change no count.
  func testLockersKilledInsideWithLeakNothing() throws {
    let out = try lines(Self.killedLockers)
    XCTAssertEqual(out, ["0"])
  }

  static let killedProducers = withArenaUsed("testProducersKilledInsidePutLeakNothing", """
      fn producer(q) {
        let k = 0
        while true {
          q.put("item" + str(k))
          k += 1
          if q.size() > 100 { q.get() }
        }
      }
      fn round(t) {
        let q = queue()
        let ps = []
        for i in range(3) { ps.push(spawn(producer, q)) }
        sleep(t)
        for p in ps { p.kill() }
        for p in ps { try { join(p) } catch e { } }
      }
      round(0.01)
      let before = arena_used()
      for i in range(\(TestSize.pick(15, 40))) { round(0.02) }
      print(arena_used() - before)
      """)

  /// Producers killed inside put on a contended queue leaked the block
  /// they had been given when the arena had marked it used but not yet
  /// named it in the queue's journal.
  func testProducersKilledInsidePutLeakNothing() throws {
    let out = try lines(Self.killedProducers)
    XCTAssertEqual(out, ["0"])
  }

  static let workerSteps = withArenaUsed("testPoolWorkersKilledAtEachStepOfTakingAChunkLeakNothing", """
      fn sq(x) { return x * x }
      fn run(point, n) {
        die_at(point, n)
        let p = pool(2)
        die_at(point, 0)
        let failed = 0
        for i in range(6) { try { p.map(sq, range(12)) } catch e { failed += 1 } }
        p.close()
        return failed
      }
      run("pool worker taken", 1)
      let points = ["pool worker taking", "pool worker taken", "pool worker running", "pool worker replying",
                    "handle counted", "handle uncounted"]
      for point in points {
        for n in [1, 2] {
          let before = arena_used()
          let failed = run(point, n)
          print(point, n, failed > 0, arena_used() - before)
        }
      }
      """)

  static let childrenKilledMaking = withArenaUsed("testChildrenKilledMakingObjectsLeakNothing", """
      fn maker() {
        let l = lock()
        let q = queue()
        let e = event()
        return 1
      }
      fn run(n) {
        die_at("object made", n)
        let p = spawn(maker)
        die_at("object made", 0)
        let died = false
        try { join(p) } catch e { died = true }
        return died
      }
      run(1)
      for n in [1, 2, 3] {
        let before = arena_used()
        print(n, run(n), arena_used() - before)
      }
      """)

  /// A child killed right after the arena handed it the block of a new
  /// object, before the object's header was written, kept the block: it was
  /// written in the child's record only after the header. Now the arena
  /// writes it there as it hands it out, and the reaper frees a block whose
  /// header never began (kind 0).
  func testChildrenKilledMakingObjectsLeakNothing() throws {
    XCTAssertEqual(try lines(Self.childrenKilledMaking), ["1 true 0", "2 true 0", "3 true 0"])
  }

  static let unreadResults = withArenaUsed("testUnreadPoolResultsGiveBackTheObjectsTheyCarry", """
      fn f(x) {
        if x == 3 { throw "boom" }
        sleep(0.005 * x)
        return [x, lock(), queue()]
      }
      fn run() {
        let p = pool(2)
        try { p.map(f, range(12), 1) } catch e { }
        let r = p.map_async(f, [5, 6, 7], 1)
        r = nil
        p.close()
      }
      run()
      let before = arena_used()
      for i in range(3) { run() }
      print(arena_used() - before)
      """)

  /// Results that carry objects (a lock, a queue) and that nobody reads —
  /// of a map that failed on another item, of an async call dropped before
  /// its results came — kept those objects: the pool's reply queue went
  /// without decoding them, and a worker whose call had ended dropped its
  /// encoded results.
  func testUnreadPoolResultsGiveBackTheObjectsTheyCarry() throws {
    XCTAssertEqual(try lines(Self.unreadResults), ["0"])
  }

  /// A worker killed at each step of taking and running a chunk (MP_DEBUG's
  /// die_at) leaves nothing behind once its pool is closed. A chunk used to
  /// carry a count on its call's reply queue, which the worker gave back
  /// after the chunk had left the task queue: a worker killed in between
  /// kept the reply queue (160 bytes) for ever, about one failed map in
  /// five under the chaos driver.
  func testPoolWorkersKilledAtEachStepOfTakingAChunkLeakNothing() throws {
    let out = try lines(Self.workerSteps)
    XCTAssertEqual(out, [
      "pool worker taking 1 false 0", "pool worker taking 2 false 0",
      "pool worker taken 1 true 0", "pool worker taken 2 true 0",
      "pool worker running 1 true 0", "pool worker running 2 true 0",
      "pool worker replying 1 true 0", "pool worker replying 2 true 0",
      "handle counted 1 false 0", "handle counted 2 false 0",
      "handle uncounted 1 false 0", "handle uncounted 2 false 0",
    ])
  }

  static let childrenKilledGivingBack = withArenaUsed("testChildrenKilledWhileGivingBackCountsLeakNothing", """
      fn idle(a, b, c) { return 1 }
      fn run(n) {
        let a = lock()
        let b = queue()
        let c = event()
        b.put("x" * 1000)
        die_at("handle uncounted", n)
        let p = spawn(idle, a, b, c)
        die_at("handle uncounted", 0)
        let died = false
        try { join(p) } catch e { died = true }
        return died
      }
      run(1)
      for n in [1, 2, 3] {
        let before = arena_used()
        print(n, run(n), arena_used() - before)
      }
      """)

  /// A process killed between a change of an object's count and the note
  /// of it in its record (taking a count, giving one back) kept the object
  /// for ever: the two now happen as one step under the arena's lock
  /// (Arena.countIn/countOut), finished by whoever repairs the arena. Here
  /// children die while giving back what they inherited, at each handle.
  func testChildrenKilledWhileGivingBackCountsLeakNothing() throws {
    let out = try lines(Self.childrenKilledGivingBack)
    XCTAssertEqual(out, ["1 true 0", "2 true 0", "3 true 0"])
  }

  static let killedPools = withArenaUsed("testPoolsWhoseWorkersAreKilledDuringMapsLeakNothing", """
      fn sq(x) { return x * x }
      fn killer(p, n) {
        for i in range(n) {
          sleep(0.002 * randint(1, 10))
          let ws = p.workers
          try { kill(ws[randint(0, len(ws) - 1)]) } catch e { }
        }
      }
      fn round() {
        let p = pool(3)
        let k = spawn(killer, p, 5)
        while k.alive { try { p.map(sq, range(40)) } catch e { } }
        join(k)
        p.close()
      }
      round()
      let before = arena_used()
      for i in range(\(TestSize.pick(12, 40))) { round() }
      print(arena_used() - before)
      """)

  /// A pool whose workers were killed during maps kept a reply queue (160
  /// bytes) now and then (see the test above for the window).
  func testPoolsWhoseWorkersAreKilledDuringMapsLeakNothing() throws {
    let out = try lines(Self.killedPools)
    XCTAssertEqual(out, ["0"])
  }
}
