/// A recorded run as rows of spans, one row per process: what the timeline
/// and the Chrome trace are both drawn from (docs/reference.md, "Tracing").
public struct TraceModel: Equatable {
  /// What a process is doing during a span.
  public enum Activity: Equatable, Hashable {
    case running
    case sleeping
    /// Waiting on an object of this kind (number: the lock's, queue's... or the joined pid).
    case waiting(ProcessTable.WaitKind, Int)
    case holding(lock: Int)
    /// Running item `index` of a pool call.
    case task(index: Int)
  }

  public struct Span: Equatable {
    public var start: Double
    public var end: Double
    public var activity: Activity
  }

  public struct Row: Equatable {
    public var pid: Int32
    public var name: String
    public var start: Double
    public var end: Double
    /// Exit status when known (minus the signal number when killed).
    public var exit: Int?
    /// Waits, sleeps, lock holds and pool items, in start order. They may
    /// overlap: a holder can wait for a second lock.
    public var spans: [Span]
    /// Instants: spawns of other processes (their pids) and ends of joins.
    public var spawns: [(time: Double, child: Int32)]
    public var joins: [(time: Double, child: Int32)]

    public static func == (a: Row, b: Row) -> Bool {
      a.pid == b.pid && a.name == b.name && a.start == b.start && a.end == b.end && a.exit == b.exit
        && a.spans == b.spans && a.spawns.map(\.child) == b.spawns.map(\.child) && a.joins.map(\.child) == b.joins.map(\.child)
    }
  }

  public var start: Double
  public var end: Double
  public var rows: [Row]

  /// Builds the rows from events in time order. `end`: when the recording
  /// stopped (what is still open then is cut there).
  public init(events: [Trace.Event], start: Double? = nil, end: Double? = nil) {
    let t0 = start ?? events.first?.time ?? 0
    let t1 = max(end ?? events.last?.time ?? t0, events.last?.time ?? t0)
    self.start = t0
    self.end = t1
    var rows: [Int32: Row] = [:]
    var order: [Int32] = []
    var openWait: [Int32: (Double, Activity)] = [:]
    var openHolds: [Int32: [Int: Double]] = [:]
    var openTasks: [Int32: [Int: Double]] = [:]
    var ended = Set<Int32>()
    func row(_ pid: Int32, _ t: Double) -> Int32 {
      if rows[pid] == nil {
        rows[pid] = Row(pid: pid, name: "", start: t, end: t1, exit: nil, spans: [], spawns: [], joins: [])
        order.append(pid)
      }
      return pid
    }
    func close(_ pid: Int32, at t: Double) {
      if let (s, a) = openWait.removeValue(forKey: pid) { rows[pid]?.spans.append(Span(start: s, end: t, activity: a)) }
      for (lock, s) in openHolds.removeValue(forKey: pid) ?? [:] {
        rows[pid]?.spans.append(Span(start: s, end: t, activity: .holding(lock: lock)))
      }
      for (i, s) in openTasks.removeValue(forKey: pid) ?? [:] {
        rows[pid]?.spans.append(Span(start: s, end: t, activity: .task(index: i)))
      }
    }
    for e in events {
      let p = row(e.pid, e.time)
      switch e.kind {
      case .processStart:
        let first = rows[p]?.start ?? e.time
        rows[p]?.start = min(first, e.time)
        if !e.name.isEmpty { rows[p]?.name = e.name }
      case .name: break
      case .processEnd:
        guard !ended.contains(p) else { break }
        ended.insert(p)
        close(p, at: e.time)
        rows[p]?.end = e.time
        rows[p]?.exit = e.arg
      case .scriptEnd:
        guard !ended.contains(p) else { break }
        ended.insert(p)
        close(p, at: e.time)
        rows[p]?.end = e.time
      case .spawn:
        rows[p]?.spawns.append((e.time, Int32(truncatingIfNeeded: e.object)))
      case .reaped:
        let child = Int32(truncatingIfNeeded: e.object)
        _ = row(child, e.time)
        if !ended.contains(child) {
          ended.insert(child)
          close(child, at: e.time)
          rows[child]?.end = e.time
          rows[child]?.exit = e.arg
        } else if rows[child]?.exit == nil {
          rows[child]?.exit = e.arg
        }
      case .waitBegin:
        if let (s, a) = openWait.removeValue(forKey: p) { rows[p]?.spans.append(Span(start: s, end: e.time, activity: a)) }
        let kind = ProcessTable.WaitKind(rawValue: Int32(truncatingIfNeeded: e.arg)) ?? .none
        openWait[p] = (e.time, kind == .sleep ? .sleeping : .waiting(kind, e.object))
      case .waitEnd:
        if let (s, a) = openWait.removeValue(forKey: p) { rows[p]?.spans.append(Span(start: s, end: e.time, activity: a)) }
        let kind = ProcessTable.WaitKind(rawValue: Int32(truncatingIfNeeded: e.arg)) ?? .none
        if kind == .join { rows[p]?.joins.append((e.time, Int32(truncatingIfNeeded: e.object))) }
      case .lockAcquired:
        openHolds[p, default: [:]][e.object] = e.time
      case .lockReleased:
        if let s = openHolds[p]?.removeValue(forKey: e.object) {
          rows[p]?.spans.append(Span(start: s, end: e.time, activity: .holding(lock: e.object)))
        }
      case .taskStart:
        openTasks[p, default: [:]][e.object] = e.time
      case .taskEnd:
        if let s = openTasks[p]?.removeValue(forKey: e.object) {
          rows[p]?.spans.append(Span(start: s, end: e.time, activity: .task(index: e.object)))
        }
      }
    }
    for p in order where !ended.contains(p) { close(p, at: t1) }
    self.rows = order.compactMap { p in
      guard var r = rows[p] else { return nil }
      r.spans.sort { ($0.start, $0.end) < ($1.start, $1.end) }
      if r.name.isEmpty { r.name = "?" }
      return r
    }
  }

  /// What `row` does at each moment between `a` and `b`, as elementary
  /// pieces: a wait (not a sleep) shows over a held lock, a held lock over
  /// a sleep, a sleep over a pool item, an item over plain running.
  static func pieces(_ row: Row, from a: Double, to b: Double) -> [(Double, Double, Activity)] {
    let lo = max(a, row.start), hi = min(b, row.end)
    guard hi > lo else { return [] }
    var cuts = [lo, hi]
    for s in row.spans where s.end > lo && s.start < hi {
      cuts.append(max(lo, s.start))
      cuts.append(min(hi, s.end))
    }
    cuts = Array(Set(cuts)).sorted()
    var out: [(Double, Double, Activity)] = []
    for i in 0..<(cuts.count - 1) {
      let x = cuts[i], y = cuts[i + 1]
      guard y > x else { continue }
      let mid = (x + y) / 2
      var best: Activity = .running
      var rank = 0
      for s in row.spans where s.start <= mid && mid < s.end {
        let r: Int
        switch s.activity {
        case .waiting: r = 4
        case .holding: r = 3
        case .sleeping: r = 2
        case .task: r = 1
        case .running: r = 0
        }
        if r > rank || (r == rank && r == 3) {
          rank = r
          best = s.activity
        }
      }
      out.append((x, y, best))
    }
    return out
  }
}
