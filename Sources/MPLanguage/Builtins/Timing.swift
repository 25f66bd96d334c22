import Glibc

/// The one timing line (docs/reference.md, "Timing"):
/// `time: wall 1.004 s | cpu 0.003 s | children 0.021 s | 10 processes | x0.02`.
/// Children's CPU counts the children that were both started and reaped
/// inside the timed part (with their own reaped descendants): a child
/// started before it ran mostly outside it, and counting its CPU gave
/// parallelism figures above the number of CPUs (docs/reference.md, "Timing").
public enum Timing {
  public struct Mark {
    let wall: Double
    let cpu: Double
    let processes: Int
    let reapedIndex: Int
    /// CPU seconds so far of each process of the program still running
    /// (pool workers, background children), by pid.
    let live: [Int32: Double]
  }

  /// Filled by the runtime: the CPU seconds so far of every other live
  /// process of the program. A part that uses processes started before it
  /// (an existing pool's workers) counts what they did during it.
  nonisolated(unsafe) public static var liveCPU: (() -> [Int32: Double])? = nil

  /// Every reaped child's start time and CPU seconds, in reaping order,
  /// while a timed part is open (`open`); the runtime appends as it reaps.
  nonisolated(unsafe) public static var reaped: [(started: Double, cpu: Double)] = []
  /// Timed parts begun and not yet ended. With none, no child is recorded:
  /// a program that times nothing kept an entry per child for ever (and
  /// wrote a page of it after each fork).
  nonisolated(unsafe) public static var open = 0

  /// The CPU of children started at or after `since` and reaped after
  /// entry `index` of `reaped`.
  static func childrenCPU(since: Double, from index: Int) -> Double {
    var total = 0.0
    for r in reaped[min(index, reaped.count)...] where r.started >= since { total += r.cpu }
    return total
  }

  public static func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
  }

  static func cpu(_ who: __rusage_who) -> Double {
    var ru = rusage()
    getrusage(who.rawValue, &ru)
    func t(_ tv: timeval) -> Double { Double(tv.tv_sec) + Double(tv.tv_usec) / 1e6 }
    return t(ru.ru_utime) + t(ru.ru_stime)
  }

  public static func start(_ interp: Interpreter) -> Mark {
    open += 1
    return Mark(wall: now(), cpu: cpu(RUSAGE_SELF), processes: interp.processesStarted, reapedIndex: reaped.count,
         live: liveCPU?() ?? [:])
  }

  public static func line(since m: Mark, _ interp: Interpreter) -> String {
    defer {
      open -= 1
      if open == 0 && !reaped.isEmpty { reaped = [] }
    }
    let wall = now() - m.wall
    let cpuSelf = cpu(RUSAGE_SELF) - m.cpu
    // First: the runtime reaps here the joined children still leaving, so
    // they are among the reaped ones below.
    let live = liveCPU?() ?? [:]
    var kids = childrenCPU(since: m.wall, from: m.reapedIndex)
    var procs = interp.processesStarted - m.processes
    // Processes still running at the end: what they used since the start
    // (all of it for one started inside); one that was already running
    // and worked counts among the processes.
    for (pid, c) in live {
      guard let c0 = m.live[pid] else {
        kids += c
        continue
      }
      if c - c0 > 0 {
        kids += c - c0
        procs += 1
      }
    }
    let par = wall > 0 ? (cpuSelf + kids) / wall : 0
    func f(_ x: Double, _ p: Int) -> String { FormatSpec.cFormat(max(0, x), precision: p, conv: "f") }
    return "time: wall \(f(wall, 3)) s | cpu \(f(cpuSelf, 3)) s | children \(f(kids, 3)) s | \(procs) process\(procs == 1 ? "" : "es") | x\(f(par, 2))"
  }

  public static func report(_ m: Mark, _ interp: Interpreter, label: String = "") {
    writeAll(2, line(since: m, interp) + "\n")
  }
}
