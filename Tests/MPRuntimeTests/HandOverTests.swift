import MPTestSupport
import XCTest

/// A queue item (a pipe message, a pool task) that carries objects holds a
/// count on each until it is decoded; a process killed after it took the
/// item and before it decoded it gave those counts back to nobody, and the
/// objects stayed in the arena for ever. The taker now writes the counts
/// in its own record as the item leaves the queue, so its reaper gives
/// them back (docs/reference.md, "Processes that die"). The same holds
/// on the other side: a producer's counts are its record's until the
/// store that publishes its item.
final class HandOverTests: XCTestCase {
  static let batch = ScriptBatch("HandOverTests", [killedAtTheHandOver, killedAtRandom, killedPublishing, producersKilledAtRandom, failedPuts, settledByTheNextGetter, settledByTheNextPutter])

  override class func tearDown() {
    batch.stop()
    super.tearDown()
  }

  func lines(_ script: ScriptBatch.Script) throws -> [String] {
    let r = try Self.batch.result(script)
    XCTAssertEqual(r.status, 0, r.err)
    return r.out.split(separator: "\n").map(String.init)
  }

  /// Each consumer dies (die_at) right before its item left the queue
  /// ("taking": the item must stay whole for the next getter) or right
  /// after it, before decoding it ("taken": its reaper gives the objects
  /// back); through a queue, a pipe and a pool's task queue; an item
  /// naming one lock twice. Each run leaves the arena as it found it.
  static let killedAtTheHandOver = ScriptBatch.Script("testConsumersKilledBetweenTakingAndDecodingAnItemLeakNothing",
                                                       env: ["MP_DEBUG": "1"], timeout: 60, """
      fn consumer(q) {
        let x = q.get()
        return 1
      }
      fn receiver(end) {
        let x = end.recv()
        return 1
      }
      fn first(x) { return type(x[0]) }
      fn viaQueue(point, what) {
        let q = queue()
        for i in range(3) { q.put(what()) }
        die_at(point, 1)
        let p = spawn(consumer, q)
        die_at(point, 0)
        let died = false
        try { join(p) } catch e { died = true }
        let kinds = []
        while q.size() > 0 { kinds.push(first(q.get())) }
        return [died, kinds]
      }
      fn viaPipe(point, what) {
        let ends = pipe()
        let a = ends[0]
        let b = ends[1]
        a.send(what())
        die_at(point, 1)
        let p = spawn(receiver, b)
        die_at(point, 0)
        let died = false
        try { join(p) } catch e { died = true }
        return died
      }
      fn viaPool(point, what) {
        die_at(point, 1)
        let p = pool(1)
        die_at(point, 0)
        let failed = false
        try { p.map(first, [what(), what()], 1) } catch e { failed = true }
        p.close()
        return failed
      }
      fn objects() { return [lock(), semaphore(2), queue(), event(), "x" * 100] }
      fn twice() { let l = lock(); return [l, l, condition(l)] }
      viaQueue("queue item taken", objects)
      for point in ["queue item taking", "queue item taken"] {
        for what in [objects, twice] {
          let before = arena_used()
          print(point, viaQueue(point, what), arena_used() - before)
        }
      }
      viaPipe("queue item taken", objects)
      let before = arena_used()
      print("pipe", viaPipe("queue item taken", objects), arena_used() - before)
      viaPool("queue item taken", objects)
      before = arena_used()
      print("pool", viaPool("queue item taken", objects), arena_used() - before)
      """)

  func testConsumersKilledBetweenTakingAndDecodingAnItemLeakNothing() throws {
    XCTAssertEqual(try lines(Self.killedAtTheHandOver), [
      "queue item taking [true, [\"lock\", \"lock\", \"lock\"]] 0",
      "queue item taking [true, [\"lock\", \"lock\", \"lock\"]] 0",
      "queue item taken [true, [\"lock\", \"lock\"]] 0",
      "queue item taken [true, [\"lock\", \"lock\"]] 0",
      "pipe true 0",
      "pool true 0",
    ])
  }

  /// Consumers of items that carry objects (held by main, so no consumer
  /// ever frees one) killed at random moments, round after round.
  static let killedAtRandom = ScriptBatch.Script("testConsumersKilledAtRandomMomentsGiveBackTheItemsObjects",
                                                  env: ["MP_DEBUG": "1"], timeout: 60, """
      fn consumer(q) { while true { let x = q.get() } }
      fn round(t) {
        let q = queue()
        let l = lock()
        let r = queue()
        let s = semaphore(1)
        let ps = []
        for i in range(3) { ps.push(spawn(consumer, q)) }
        let until = now() + t
        let i = 0
        while now() < until { q.put([l, r, i, s]); i += 1 }
        for p in ps { p.kill() }
        for p in ps { try { join(p) } catch e { } }
      }
      round(0.01)
      let before = arena_used()
      for i in range(\(TestSize.pick(20, 60))) { round(0.01 + 0.002 * (i % 7)) }
      print(arena_used() - before)
      """)

  func testConsumersKilledAtRandomMomentsGiveBackTheItemsObjects() throws {
    XCTAssertEqual(try lines(Self.killedAtRandom), ["0"])
  }

  /// A producer dies (die_at) once its item's counts are tagged as being
  /// published, or at each step of its put (queue_die_at: an item in its
  /// slot, or in a block of its own): the item is in the queue whole, or
  /// not at all, and the objects it carries (a lock main holds, a queue
  /// the producer made) are freed with it either way.
  static let killedPublishing = ScriptBatch.Script("testProducersKilledPuttingAnItemThatCarriesObjectsLeakNothing",
                                                    env: ["MP_DEBUG": "1"], timeout: 60, """
      fn producer(q, l, k, big) {
        if k >= 0 { queue_die_at(k) }
        q.put([l, queue(), big])
        return 1
      }
      fn run(point, k, big) {
        let q = queue()
        let l = lock()
        if point != "" { die_at(point, 1) }
        let p = spawn(producer, q, l, k, big)
        if point != "" { die_at(point, 0) }
        let died = false
        try { join(p) } catch e { died = true }
        let n = q.size()
        return [died, n]
      }
      run("", -1, "")
      let before = arena_used()
      print("none", run("", -1, ""), arena_used() - before)
      print("publishing", run("queue item publishing", -1, ""), arena_used() - before)
      for big in ["", "x" * 100] {
        for k in range(12) {
          print("step", len(big), k, run("", k, big), arena_used() - before)
        }
      }
      """)

  func testProducersKilledPuttingAnItemThatCarriesObjectsLeakNothing() throws {
    let out = try lines(Self.killedPublishing)
    XCTAssertEqual(Array(out.prefix(2)), ["none [false, 1] 0", "publishing [true, 0] 0"])
    let steps = out.dropFirst(2)
    XCTAssertEqual(steps.count, 24)
    XCTAssertEqual(steps.filter { !$0.hasSuffix(" 0") }, [], "arena use after a death at a step")
    XCTAssertTrue(steps.contains("step 100 6 [true, 1] 0"), "a death after the block item was published")
  }

  /// Producers of items that carry objects (held by main) killed at
  /// random moments, round after round.
  static let producersKilledAtRandom = ScriptBatch.Script("testProducersKilledAtRandomMomentsLeakNothing",
                                                           env: ["MP_DEBUG": "1"], timeout: 60, """
      fn producer(q, l, r, s) { let i = 0; while true { q.put([l, r, i, s]); i += 1 } }
      fn round(t) {
        let q = queue()
        let l = lock()
        let r = queue()
        let s = semaphore(1)
        let ps = []
        for i in range(3) { ps.push(spawn(producer, q, l, r, s)) }
        sleep(t)
        for p in ps { p.kill() }
        for p in ps { try { join(p) } catch e { } }
      }
      round(0.01)
      let before = arena_used()
      for i in range(\(TestSize.pick(30, 90))) { round(0.005 + 0.002 * (i % 7)) }
      print(arena_used() - before)
      """)

  func testProducersKilledAtRandomMomentsLeakNothing() throws {
    XCTAssertEqual(try lines(Self.producersKilledAtRandom), ["0"])
  }

  /// A put that timed out or found its queue closed kept the counts its
  /// encoded item had taken, in main and in a child.
  static let failedPuts = ScriptBatch.Script("testAFailedPutGivesBackTheObjectsItsItemCarries",
                                              env: ["MP_DEBUG": "1"], timeout: 60, """
      fn round() {
        let q = queue(1)
        q.put(1)
        try { q.put([lock(), queue()], 0.001) } catch e { }
        q.close()
        try { q.put([lock(), queue()]) } catch e { }
      }
      fn child() { for i in range(5) { round() }; return 1 }
      round()
      let before = arena_used()
      for i in range(5) { round() }
      print(arena_used() - before)
      join(spawn(child))
      print(arena_used() - before)
      """)

  func testAFailedPutGivesBackTheObjectsItsItemCarries() throws {
    XCTAssertEqual(try lines(Self.failedPuts), ["0", "0"])
  }

  /// A consumer dies while it takes an item (holding the get lock), and
  /// another takes that same item before the dead one is reaped (its
  /// parent waits): the reaper must not take the get count, moved past
  /// the item by the other consumer, for the dead one's. The lock's repair
  /// settles the dead one's note first. Before, its counts were given back
  /// twice and the arena was corrupted (a crash).
  static let settledByTheNextGetter = ScriptBatch.Script("testAnItemTakenByAnotherGetterBeforeTheDeadOneIsReapedKeepsItsObjects",
                                                          env: ["MP_DEBUG": "1"], timeout: 60, """
      fn consumer(q) {
        let x = q.get()
        return type(x[0])
      }
      fn middle(q, point) {
        die_at(point, 1)
        let a = spawn(consumer, q)
        die_at(point, 0)
        sleep(0.4)
        let died = false
        try { join(a) } catch e { died = true }
        return died
      }
      fn run(point) {
        let q = queue()
        for i in range(3) { q.put([lock(), queue(), semaphore(1)]) }
        let m = spawn(middle, q, point)
        sleep(0.15)
        let b = spawn(consumer, q)
        let got = join(b)
        let died = join(m)
        let left = q.size()
        let rest = q.get()
        return [died, got, left, type(rest[1])]
      }
      run("queue item taking")
      let before = arena_used()
      print(run("queue item taking"), arena_used() - before)
      print(run("queue item taken"), arena_used() - before)
      """)

  func testAnItemTakenByAnotherGetterBeforeTheDeadOneIsReapedKeepsItsObjects() throws {
    XCTAssertEqual(try lines(Self.settledByTheNextGetter), [
      "[true, \"lock\", 2, \"queue\"] 0",
      "[true, \"lock\", 1, \"queue\"] 0",
    ])
  }

  /// The same on the put side: a producer dies while it publishes (holding
  /// the put lock), another publishes its own item under that number
  /// before the dead one is reaped: the dead one's counts are still its
  /// record's (they leaked).
  static let settledByTheNextPutter = ScriptBatch.Script("testAnItemNumberReusedBeforeTheDeadPutterIsReapedLeaksNothing",
                                                          env: ["MP_DEBUG": "1"], timeout: 60, """
      fn producer(q, l) {
        q.put([l, queue()])
        return 1
      }
      fn middle(q, l) {
        die_at("queue item publishing", 1)
        let a = spawn(producer, q, l)
        die_at("queue item publishing", 0)
        sleep(0.4)
        let died = false
        try { join(a) } catch e { died = true }
        return died
      }
      fn run() {
        let q = queue()
        let l = lock()
        let m = spawn(middle, q, l)
        sleep(0.15)
        join(spawn(producer, q, l))
        let died = join(m)
        return [died, q.size(), type(q.get()[1])]
      }
      run()
      let before = arena_used()
      print(run(), arena_used() - before)
      """)

  func testAnItemNumberReusedBeforeTheDeadPutterIsReapedLeaksNothing() throws {
    XCTAssertEqual(try lines(Self.settledByTheNextPutter), ["[true, 1, \"queue\"] 0"])
  }
}
