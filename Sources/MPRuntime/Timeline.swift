/// The timeline of a traced run, drawn as text (docs/reference.md,
/// "Tracing"): one row per process, labelled with pid and function, time
/// across the width, a mark per column for what the process did most of
/// that column's time, a time axis, a legend and the wall time. It reads
/// without colour; colour only helps.
public enum Timeline {
  static let labelWidth = 22

  /// The mark of each activity, the same in every timeline. Holding a lock
  /// is `#` when the run used one lock, else the lock's own digit or letter.
  static func mark(_ a: TraceModel.Activity, lockMarks: [Int: Character]) -> Character {
    switch a {
    case .running, .task: return "="
    case .sleeping: return "."
    case .holding(let l): return lockMarks[l] ?? "#"
    case .waiting(let kind, _):
      switch kind {
      case .lock: return "L"
      case .semaphore: return "S"
      case .queueGet, .queuePut: return "Q"
      case .join: return "J"
      default: return "W"
      }
    }
  }

  static func waitWord(_ m: Character) -> String {
    switch m {
    case "L": return "waiting for a lock"
    case "S": return "waiting for a semaphore"
    case "Q": return "waiting on a queue"
    case "J": return "waiting to join"
    default: return "waiting (event, condition, barrier...)"
    }
  }

  /// Draws `model` in `width` columns.
  public static func render(_ model: TraceModel, width: Int = 100, color: Bool = false) -> String {
    let plot = max(20, width - labelWidth - 2)
    let total = max(model.end - model.start, 1e-9)
    let dt = total / Double(plot)
    var locks: [Int] = []
    for r in model.rows {
      for s in r.spans { if case .holding(let l) = s.activity, !locks.contains(l) { locks.append(l) } }
    }
    locks.sort()
    var lockMarks: [Int: Character] = [:]
    if locks.count > 1 {
      let symbols = Array("123456789abcdefghijklmnopqrstuvwxyz")
      for (i, l) in locks.enumerated() { lockMarks[l] = i < symbols.count ? symbols[i] : "#" }
    }
    var used = Set<Character>()
    var out = ""
    for r in model.rows {
      var cells = [Character](repeating: " ", count: plot)
      for c in 0..<plot {
        let a = model.start + Double(c) * dt, b = a + dt
        var time: [TraceModel.Activity: Double] = [:]
        for (x, y, act) in TraceModel.pieces(r, from: a, to: b) { time[act, default: 0] += y - x }
        // The activity that took most of the column; a column where the
        // process lived only a moment still shows it lived.
        if let best = time.max(by: { $0.value < $1.value || ($0.value == $1.value && rank($0.key) < rank($1.key)) }) {
          cells[c] = mark(best.key, lockMarks: lockMarks)
          used.insert(cells[c])
        }
      }
      // A hold shorter than a column still shows, in the column it starts in:
      // a lock held for a moment is exactly what a learner looks for.
      for sp in r.spans {
        guard case .holding = sp.activity else { continue }
        let m = mark(sp.activity, lockMarks: lockMarks)
        let c0 = max(0, min(plot - 1, Int((sp.start - model.start) / dt)))
        let c1 = max(c0, min(plot - 1, Int((sp.end - model.start) / dt)))
        if !cells[c0...c1].contains(m) {
          cells[c0] = m
          used.insert(m)
        }
      }
      // Pool items: the item's index written where it starts, when it fits
      // (over whatever the item was doing there).
      for s in r.spans {
        guard case .task(let i) = s.activity else { continue }
        let c0 = Int((s.start - model.start) / dt), c1 = Int((s.end - model.start) / dt)
        let label = Array(String(i))
        guard c1 - c0 >= label.count + 1, c0 >= 0, c0 + label.count <= plot else { continue }
        for (k, ch) in label.enumerated() { cells[c0 + k] = ch }
        used.insert("0")
      }
      out += pad(label(r), labelWidth) + "|" + paint(cells, color) + "|\n"
    }
    out += axis(model, plot: plot)
    out += legend(used, locks: locks, lockMarks: lockMarks, hasTasks: used.contains("0"))
    let wall = total
    out += "wall \(seconds(wall)), \(model.rows.count) process\(model.rows.count == 1 ? "" : "es")\n"
    return out
  }

  static func rank(_ a: TraceModel.Activity) -> Int {
    switch a {
    case .running: return 0
    case .task: return 1
    case .sleeping: return 2
    case .holding: return 3
    case .waiting: return 4
    }
  }

  static func label(_ r: TraceModel.Row) -> String {
    let pid = String(r.pid)
    let room = labelWidth - 1 - pid.count - 1
    var name = r.name
    if name.count > room { name = String(name.prefix(max(1, room - 1))) + "~" }
    return pid + " " + name
  }

  static func pad(_ s: String, _ n: Int) -> String {
    s.count >= n ? String(s.prefix(n)) : s + String(repeating: " ", count: n - s.count)
  }

  static func paint(_ cells: [Character], _ color: Bool) -> String {
    guard color else { return String(cells) }
    var s = ""
    for ch in cells {
      let code: String
      switch ch {
      case "=": code = "32"
      case ".": code = "34"
      case "L", "S", "Q", "J", "W": code = "31"
      case " ": code = ""
      default: code = ch.isNumber && ch != "#" ? "33" : "33"
      }
      s += code.isEmpty ? String(ch) : "\u{1B}[\(code)m\(ch)\u{1B}[0m"
    }
    return s
  }

  /// "0 s" ... with ticks at a round step, about every 12 columns.
  static func axis(_ model: TraceModel, plot: Int) -> String {
    let total = max(model.end - model.start, 1e-9)
    let rough = total * 12 / Double(plot)
    var step = 1e-6
    let steps: [Double] = [1, 2, 5]
    outer: while true {
      for m in steps where step * m >= rough {
        step *= m
        break outer
      }
      step *= 10
    }
    var ticks = [Character](repeating: "-", count: plot)
    var labels = [Character](repeating: " ", count: plot + 12)
    var t = 0.0
    while t <= total + step / 1e6 {
      let c = Int((t / total * Double(plot)).rounded())
      if c < plot { ticks[c] = "+" }
      let text = Array(tickText(t, step: step))
      let at = min(c, plot)
      if at + text.count <= labels.count, labels[max(0, at - 1)..<min(labels.count, at + text.count + 1)].allSatisfy({ $0 == " " }) {
        for (k, ch) in text.enumerated() { labels[at + k] = ch }
      }
      t += step
    }
    return pad("", labelWidth + 1) + String(ticks) + "\n" + pad("", labelWidth + 1)
      + String(String(labels).reversed().drop(while: { $0 == " " }).reversed()) + "\n"
  }

  static func tickText(_ t: Double, step: Double) -> String {
    if t >= 1 || step >= 1 { return trimmed(t, 3) + " s" }
    if step < 1 {
      let ms = t * 1000
      if step * 1000 >= 1 { return "\(Int(ms.rounded())) ms" }
      return trimmed(ms, 3) + " ms"
    }
    return "\(Int(t.rounded())) s"
  }

  static func trimmed(_ x: Double, _ digits: Int) -> String {
    var scale = 1
    for _ in 0..<digits { scale *= 10 }
    let n = Int((abs(x) * Double(scale)).rounded())
    var frac = String(n % scale)
    while frac.count < digits { frac = "0" + frac }
    var s = (x < 0 && n != 0 ? "-" : "") + String(n / scale) + (digits > 0 ? "." + frac : "")
    while s.contains("."), s.hasSuffix("0") { s.removeLast() }
    if s.hasSuffix(".") { s.removeLast() }
    return s
  }

  static func seconds(_ x: Double) -> String {
    x < 1 ? trimmed(x * 1000, 1) + " ms" : trimmed(x, 3) + " s"
  }

  static func legend(_ used: Set<Character>, locks: [Int], lockMarks: [Int: Character], hasTasks: Bool) -> String {
    var parts: [String] = ["= running"]
    if hasTasks { parts.append("0-9 index of the pool item starting there") }
    if used.contains(".") { parts.append(". sleeping") }
    if lockMarks.isEmpty {
      if let l = locks.first { parts.append("# holding lock \(l)") }
    } else {
      for l in locks { if let m = lockMarks[l] { parts.append("\(m) holding lock \(l)") } }
    }
    for m in ["L", "S", "Q", "J", "W"] as [Character] where used.contains(m) { parts.append("\(m) \(waitWord(m))") }
    return "legend: " + parts.joined(separator: "  ") + "\n"
  }
}
