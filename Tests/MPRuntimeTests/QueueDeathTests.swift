import Foundation
import MPTestSupport
import XCTest

/// A queue stays whole whenever a process using it dies (docs/reference.md,
/// "Processes that die"): a put cut short never happened, a get cut short
/// leaves its item for the next getter, and nothing is left in the arena.
final class QueueDeathTests: XCTestCase {
  func lines(_ script: String) throws -> [String] {
    let mp = try MPProcess(script: script, env: ["MP_DEBUG": "1"])
    defer { mp.cleanup() }
    XCTAssertEqual(mp.wait(timeout: 120), 0, mp.errText)
    return mp.remainingOutput.split(separator: "\n").map(String.init)
  }

  /// A child stops (queue_die_at) at every step of its puts and gets in
  /// turn, inline items and items with a block of their own, across
  /// segment boundaries; after each death the items left are a run of
  /// consecutive ones, the queue still works, and the arena is as before.
  func testAPutOrGetStoppedAtAnyStepLeavesAWholeQueue() throws {
    let out = try lines("""
      # A put or get stopped between any two of its stores leaves a whole queue.
      let base = arena_used()
      let big = "b" * 70
      fn item(i) {
        if i % 5 == 0 { return big + str(i) }
        return i
      }
      fn value(x) {
        if type(x) == type("") { return int(x[70:]) }
        return x
      }
      fn work(q, k) {
        for i in range(3) { q.put(item(i)) }
        queue_die_at(k)
        for i in range(3, 40) { q.put(item(i)) }
        for i in range(36) { q.get() }
        for i in range(40, 75) { q.put(item(i)) }
        for i in range(36) { q.get() }
      }
      let k = 0
      let bad = 0
      let finished = false
      fn round(k) {
        let q = queue()
        let p = spawn(work, q, k)
        try {
          join(p)
          finished = true
        } catch e {
          if not ("status 9" in e["message"]) { print("unexpected", e["message"]) }
        }
        # What is left must be a run of consecutive items, in order.
        let prev = -1
        let n = 0
        while q.size() > 0 {
          let v = value(q.get())
          if prev >= 0 and v != prev + 1 { bad += 1 }
          prev = v
          n += 1
        }
        q.put(item(5))
        q.put(7)
        if value(q.get()) != 5 or q.get() != 7 or q.size() != 0 { bad += 1 }
      }
      let stride = \(TestSize.pick(3, 1))
      let rounds = 0
      while not finished {
        let u = arena_used()
        round(k)
        if arena_used() != u { print("k", k, "leaked", arena_used() - u) }
        k += stride
        rounds += 1
      }
      print("steps", rounds * stride, "bad", bad)
      print("leak", arena_used() - base)
      """)
    XCTAssertEqual(out.count, 2, out.joined(separator: "\n"))
    let steps = Int(out.first?.split(separator: " ").dropFirst().first ?? "") ?? 0
    XCTAssertGreaterThan(steps, 300, out.joined(separator: "\n"))
    XCTAssertTrue(out.first?.hasSuffix("bad 0") ?? false, out.joined(separator: "\n"))
    XCTAssertEqual(out.last, "leak 0")
  }

  /// Producers and consumers SIGKILLed at random moments, all at once:
  /// no item is got twice, the queue still works, nothing leaks.
  func testProducersAndConsumersKilledAtRandomLoseNothingTwice() throws {
    let out = try lines("""
      # Producers and consumers SIGKILLed at random moments of their puts and gets.
      let base = arena_used()
      fn produce(q, id) {
        let i = 0
        while true {
          let pad = "x" * 5
          if i % 3 == 0 { pad = "x" * 100 }
          q.put("{id} {i} {pad}")
          i += 1
        }
      }
      fn forward(q, out) {
        while true { out.put(q.get()) }
      }
      fn check() {
        let q = queue()
        let out = queue()
        let producers = []
        let consumers = []
        for id in range(3) { producers.push(spawn(produce, q, id)) }
        for k in range(2) { consumers.push(spawn(forward, q, out)) }
        let last = {}
        let dups = 0
        let disorder = 0
        let got = 0
        let deadline = now() + \(TestSize.pick(0.6, 2.0))
        while now() < deadline {
          let r = randint(0, 3)
          sleep(random() * 0.004)
          if r == 0 {
            let k = randint(0, len(producers) - 1)
            kill(producers[k].pid, "KILL")
            try { join(producers[k]) } catch e { }
            producers[k] = spawn(produce, q, 10 + got + k * 1000000)
          } else if r == 1 {
            let k = randint(0, len(consumers) - 1)
            kill(consumers[k].pid, "KILL")
            try { join(consumers[k]) } catch e { }
            consumers[k] = spawn(forward, q, out)
          }
          let budget = 200
          while budget > 0 and out.size() > 0 {
            budget -= 1
            let item = out.get()
            got += 1
            if item in last { dups += 1 }
            last[item] = true
          }
        }
        for p in producers { kill(p.pid, "KILL") }
        for p in consumers { kill(p.pid, "KILL") }
        for p in producers + consumers { try { join(p) } catch e { } }
        let left = 0
        while q.size() > 0 { q.get(); left += 1 }
        while out.size() > 0 { out.get() }
        q.put(1)
        print("works", q.get(), got > 100, dups)
      }
      check()
      print("leak", arena_used() - base)
      """)
    XCTAssertEqual(out, ["works 1 true 0", "leak 0"])
  }
}
