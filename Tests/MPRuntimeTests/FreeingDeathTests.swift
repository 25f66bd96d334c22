import MPTestSupport
import XCTest

/// A process that gave back the last count on an object frees it: runs
/// its finalizer (a queue's items, a condition's lock, a pipe's queues),
/// then frees its block. Killed in between, it left the object, or the
/// rest of it, in the arena for ever. The count's record entry now stays,
/// marked, until the block is freed, and the reaper finishes the freeing
/// (docs/reference.md, "What a dying process gives back").
final class FreeingDeathTests: XCTestCase {
  static let batch = ScriptBatch("FreeingDeathTests", [killedFreeing, killedAtRandom])

  override class func tearDown() {
    batch.stop()
    super.tearDown()
  }

  func lines(_ script: ScriptBatch.Script) throws -> [String] {
    let r = try Self.batch.result(script)
    XCTAssertEqual(r.status, 0, r.err)
    return r.out.split(separator: "\n").map(String.init)
  }

  /// A child ends holding the only references to a queue of items that
  /// carry objects, a condition (holding a lock) and a pipe with a message
  /// in it: it frees 15 objects as it ends. It is killed (die_at) as it
  /// starts freeing the n-th, or between its finalizer and its block, or
  /// at the k-th step of queue code (queue_die_at, armed after its puts:
  /// the 35 steps of the queues' finalizers, taking the items and freeing
  /// the segments one by one).
  static let killedFreeing = ScriptBatch.Script("testChildrenKilledWhileFreeingObjectsLeakNothing",
                                                 env: ["MP_DEBUG": "1"], timeout: 60, """
      fn maker(k) {
        let q = queue()
        for i in range(3) { q.put([lock(), queue(), "x" * 80, i]) }
        let l = lock()
        let c = condition(l)
        l = nil
        let ends = pipe()
        ends[0].send([semaphore(1), event()])
        if k >= 0 { queue_die_at(k) }
        return 1
      }
      fn run(point, n, k) {
        if point != "" { die_at(point, n) }
        let p = spawn(maker, k)
        if point != "" { die_at(point, 0) }
        let died = false
        try { join(p) } catch e { died = true }
        return died
      }
      run("", 0, -1)
      let before = arena_used()
      print("none", run("", 0, -1), arena_used() - before)
      for point in ["object freeing", "object finalized"] {
        for n in range(1, 16) {
          before = arena_used()
          let died = run(point, n, -1)
          print(point, n, died, arena_used() - before)
        }
      }
      for k in range(0, 40) {
        before = arena_used()
        let died = run("", 0, k)
        print("step", k, died, arena_used() - before)
      }
      """)

  func testChildrenKilledWhileFreeingObjectsLeakNothing() throws {
    let out = try lines(Self.killedFreeing)
    XCTAssertEqual(Array(out.prefix(31)), [
      "none false 0",
      "object freeing 1 true 0",
      "object freeing 2 true 0",
      "object freeing 3 true 0",
      "object freeing 4 true 0",
      "object freeing 5 true 0",
      "object freeing 6 true 0",
      "object freeing 7 true 0",
      "object freeing 8 true 0",
      "object freeing 9 true 0",
      "object freeing 10 true 0",
      "object freeing 11 true 0",
      "object freeing 12 true 0",
      "object freeing 13 true 0",
      "object freeing 14 true 0",
      "object freeing 15 true 0",
      "object finalized 1 true 0",
      "object finalized 2 true 0",
      "object finalized 3 true 0",
      "object finalized 4 true 0",
      "object finalized 5 true 0",
      "object finalized 6 true 0",
      "object finalized 7 true 0",
      "object finalized 8 true 0",
      "object finalized 9 true 0",
      "object finalized 10 true 0",
      "object finalized 11 true 0",
      "object finalized 12 true 0",
      "object finalized 13 true 0",
      "object finalized 14 true 0",
      "object finalized 15 true 0",
    ])
    let steps = out.dropFirst(31)
    XCTAssertEqual(steps.count, 40)
    XCTAssertEqual(steps.filter { !$0.hasSuffix(" 0") }, [], "arena use after a death at a step")
    XCTAssertTrue(steps.contains("step 34 true 0"), "the finalizers' steps were reached")
  }

  /// Consumers that free what each item carries (made for it by main),
  /// killed at random moments, round after round.
  static let killedAtRandom = ScriptBatch.Script("testConsumersKilledAtRandomWhileFreeingLeakNothing",
                                                  env: ["MP_DEBUG": "1"], timeout: 60, """
      fn consumer(q) { while true { let x = q.get() } }
      fn round(t) {
        let q = queue()
        let ps = []
        for i in range(3) { ps.push(spawn(consumer, q)) }
        let until = now() + t
        let i = 0
        while now() < until { q.put([lock(), queue(), i, condition()]); i += 1 }
        for p in ps { p.kill() }
        for p in ps { try { join(p) } catch e { } }
      }
      round(0.01)
      let before = arena_used()
      for i in range(\(TestSize.pick(30, 90))) { round(0.01 + 0.002 * (i % 7)) }
      print(arena_used() - before)
      """)

  func testConsumersKilledAtRandomWhileFreeingLeakNothing() throws {
    XCTAssertEqual(try lines(Self.killedAtRandom), ["0"])
  }
}
