import Foundation
import MPTestSupport
import XCTest

/// The timing line (docs/reference.md, "Timing") on known workloads (generous bounds).
final class TimingTests: XCTestCase {
  struct Line {
    var wall = 0.0, cpu = 0.0, children = 0.0, processes = 0, parallelism = 0.0
  }

  func parse(_ text: String) -> Line? {
    guard let l = text.split(separator: "\n").first(where: { $0.hasPrefix("time: wall ") }) else { return nil }
    let parts = l.dropFirst("time: ".count).components(separatedBy: " | ")
    guard parts.count == 5 else { return nil }
    func num(_ s: String) -> Double? { Double(s.split(separator: " ").first(where: { Double($0) != nil }) ?? "") }
    var out = Line()
    guard let w = num(parts[0]), let c = num(parts[1]), let ch = num(parts[2]),
      let p = Int(parts[3].split(separator: " ")[0]), parts[4].hasPrefix("x"), let par = Double(parts[4].dropFirst())
    else { return nil }
    out.wall = w
    out.cpu = c
    out.children = ch
    out.processes = p
    out.parallelism = par
    return out
  }

  func testTimeBlockOnTenSleepersShowsOneSleepAndTenProcesses() throws {
    // Half-second sleepers in a plain run: one after another they would
    // take 5 s, side by side a little over 0.5 s.
    let s = TestSize.pick(0.5, 1.0)
    let mp = try MPProcess(script: """
      time {
        let ps = []
        for i in range(10) { ps.push(spawn(sleep, \(s))) }
        join(ps)
      }
      print("done")
      """)
    defer { mp.cleanup() }
    XCTAssertEqual(mp.wait(), 0, mp.errText)
    let line = try XCTUnwrap(parse(mp.errText), "no timing line in: \(mp.errText)")
    XCTAssertGreaterThanOrEqual(line.wall, s * 0.95)
    XCTAssertLessThan(line.wall, s + 2, "ten \(s) s sleepers should overlap")
    XCTAssertEqual(line.processes, 10)
    XCTAssertLessThan(line.parallelism, 0.5, "sleeping uses almost no CPU")
  }

  func testTimeFlagOnAPoolOfCPUWorkShowsChildrenCPUAndParallelism() throws {
    let n = TestSize.pick(250_000, 600_000)
    let mp = try MPProcess(script: """
      fn burn(n) {
        let t = 0
        let i = 0
        while i < n {
          t += i % 7
          i += 1
        }
        return t
      }
      with pool(2) as p { p.map(burn, [\(n), \(n), \(n), \(n)], 1) }
      """, flags: ["--time"])
    defer { mp.cleanup() }
    XCTAssertEqual(mp.wait(timeout: 60), 0, mp.errText)
    let line = try XCTUnwrap(parse(mp.errText), "no timing line in: \(mp.errText)")
    XCTAssertEqual(line.processes, 2, "a pool of 2 starts 2 processes")
    XCTAssertGreaterThan(line.children, line.cpu, "the work happened in the workers")
    // On a loaded machine the workers may get a fraction of a CPU, so the
    // figure itself is not bounded (a ratio above 0.8 failed under load);
    // what must hold is that it is the line's own CPU over wall, and never
    // more than the CPUs there are.
    let expected = (line.cpu + line.children) / line.wall
    XCTAssertEqual(line.parallelism, expected, accuracy: 0.02 + expected * 0.02, "parallelism is CPU over wall")
    XCTAssertLessThanOrEqual(line.parallelism, Double(ProcessInfo.processInfo.activeProcessorCount) + 0.05)
    XCTAssertGreaterThan(line.parallelism, 0, "the workers' CPU was counted")
  }
}
