import MPTestSupport
import XCTest

/// A queue item (a pipe message, a pool task) that carries objects holds a
/// count on each until it is decoded; a process killed after it took the
/// item and before it decoded it gave those counts back to nobody, and the
/// objects stayed in the arena for ever. The taker now writes the counts
/// in its own record as the item leaves the queue, so its reaper gives
/// them back (docs/reference.md, "Processes that die").
final class HandOverTests: XCTestCase {
  static let batch = ScriptBatch("HandOverTests", [killedAtTheHandOver, killedAtRandom])

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
}
