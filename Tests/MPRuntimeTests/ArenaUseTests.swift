import XCTest

/// Arena objects live while some process refers to them, and no longer
/// (docs/reference.md, "Lifetimes"): making and dropping objects over and
/// over leaves the arena's use flat.
final class ArenaUseTests: XCTestCase {
  func usedAfter(_ rounds: Int, _ body: String) throws -> (Int, Int) {
    let mp = try MPProcess(script: """
      fn round(i) {
      \(body)
      }
      round(0)
      let before = arena_used()
      for i in range(\(rounds)) { round(i) }
      print(arena_used() - before)
      for i in range(\(rounds)) { round(i) }
      print(arena_used() - before)
      """, env: ["MP_DEBUG": "1"])
    defer { mp.cleanup() }
    let a = Int(mp.readLine(timeout: 60) ?? "") ?? -1
    let b = Int(mp.readLine(timeout: 60) ?? "") ?? -1
    XCTAssertEqual(mp.wait(timeout: 60), 0, mp.errText)
    return (a, b)
  }

  /// A pool's shared words were allocated raw and never freed.
  func testPoolsMadeAndDroppedGiveTheirSpaceBack() throws {
    let (a, b) = try usedAfter(30, "with pool(2) as p { p.map(fn(x) => x, [1, 2, 3]) }")
    XCTAssertLessThan(a, 4096)
    XCTAssertEqual(a, b, "arena use grows with every pool")
  }

  func testSyncObjectsMadeAndDroppedGiveTheirSpaceBack() throws {
    let (a, b) = try usedAfter(200, """
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
    XCTAssertLessThan(a, 8192)
    XCTAssertEqual(a, b, "arena use grows with every round")
  }

  func testChildrenThatEndGiveBackWhatTheyInherited() throws {
    let (a, b) = try usedAfter(40, """
      let q = queue()
      q.put("x" * 10000)
      join(spawn(fn(q) => q.size(), q))
      let p = spawn(sleep, 10)
      p.kill()
      try { join(p) } catch e { }
      """)
    XCTAssertLessThan(a, 8192)
    XCTAssertEqual(a, b, "arena use grows with every child")
  }
}
