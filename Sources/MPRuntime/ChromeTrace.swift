/// A traced run in the Chrome trace-event format, which Perfetto and
/// chrome://tracing open (docs/reference.md, "Tracing"): one track per
/// process (named "pid function"), a span for its life, spans inside it for
/// waits, sleeps, held locks and pool items, and instant events for spawns
/// and joins. Spans on a track must nest; a hold that outlives the span it
/// began in is cut in two.
public enum ChromeTrace {
  public static func json(_ model: TraceModel) -> String {
    var events: [String] = []
    func us(_ t: Double) -> String {
      let v = ((t - model.start) * 1e6 * 1000).rounded() / 1000
      return Timeline.trimmed(v, 3)
    }
    for r in model.rows {
      let p = String(r.pid)
      events.append("{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":\(p),\"tid\":\(p),\"args\":{\"name\":\(quote("\(r.pid) \(r.name)"))}}")
      events.append("{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":\(p),\"tid\":\(p),\"args\":{\"name\":\(quote(r.name))}}")
      var args = ""
      if let x = r.exit { args = ",\"args\":{\"exit\":\(x)}" }
      events.append(span(r.name, "process", r.start, r.end, p, us, args))
      for s in nested(r.spans.filter { $0.end > $0.start }, within: (r.start, r.end)) {
        events.append(span(name(s.activity), category(s.activity), s.start, s.end, p, us, ""))
      }
      for (t, c) in r.spawns {
        events.append("{\"name\":\"spawn \(c)\",\"cat\":\"spawn\",\"ph\":\"i\",\"s\":\"t\",\"ts\":\(us(t)),\"pid\":\(p),\"tid\":\(p)}")
      }
      for (t, c) in r.joins {
        events.append("{\"name\":\"joined \(c)\",\"cat\":\"join\",\"ph\":\"i\",\"s\":\"t\",\"ts\":\(us(t)),\"pid\":\(p),\"tid\":\(p)}")
      }
    }
    return "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n" + events.joined(separator: ",\n") + "\n]}\n"
  }

  static func span(_ name: String, _ cat: String, _ a: Double, _ b: Double, _ pid: String,
                   _ us: (Double) -> String, _ args: String) -> String {
    "{\"name\":\(quote(name)),\"cat\":\"\(cat)\",\"ph\":\"X\",\"ts\":\(us(a)),\"dur\":\(Timeline.trimmed(max(0, b - a) * 1e6, 3)),\"pid\":\(pid),\"tid\":\(pid)\(args)}"
  }

  static func name(_ a: TraceModel.Activity) -> String {
    switch a {
    case .running: return "running"
    case .sleeping: return "sleep"
    case .holding(let l): return "hold lock \(l)"
    case .task(let i): return "item \(i)"
    case .waiting(let k, let n):
      switch k {
      case .join: return "join \(n)"
      case .lock: return "wait lock \(n)"
      case .semaphore: return "wait semaphore \(n)"
      case .queueGet: return "get queue \(n)"
      case .queuePut: return "put queue \(n)"
      default: return "wait \(k.text) \(n)"
      }
    }
  }

  static func category(_ a: TraceModel.Activity) -> String {
    switch a {
    case .running, .task: return "running"
    case .sleeping: return "sleeping"
    case .holding: return "holding"
    case .waiting: return "waiting"
    }
  }

  /// `spans` made to nest: sorted by start (longer first), each cut at the
  /// end of the span it starts in, the rest carried on after it.
  static func nested(_ spans: [TraceModel.Span], within outer: (Double, Double)) -> [TraceModel.Span] {
    func before(_ a: TraceModel.Span, _ b: TraceModel.Span) -> Bool {
      a.start != b.start ? a.start < b.start : a.end > b.end
    }
    var todo = spans.map { s -> TraceModel.Span in
      var s = s
      s.start = max(s.start, outer.0)
      s.end = min(s.end, outer.1)
      return s
    }.filter { $0.end > $0.start }.sorted(by: before)
    var out: [TraceModel.Span] = []
    var stack: [TraceModel.Span] = []
    var i = 0
    while i < todo.count {
      var s = todo[i]
      i += 1
      while let top = stack.last, top.end <= s.start { stack.removeLast() }
      if let top = stack.last, s.end > top.end {
        var rest = s
        rest.start = top.end
        s.end = top.end
        // Carried on after the enclosing span ends, in start order.
        let at = todo[i...].firstIndex { before(rest, $0) } ?? todo.count
        todo.insert(rest, at: at)
      }
      guard s.end > s.start else { continue }
      out.append(s)
      stack.append(s)
    }
    return out
  }

  static func quote(_ s: String) -> String {
    var out = "\""
    for u in s.unicodeScalars {
      switch u {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\t": out += "\\t"
      default:
        if u.value < 0x20 {
          let hex = String(u.value, radix: 16)
          out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        } else {
          out.unicodeScalars.append(u)
        }
      }
    }
    return out + "\""
  }
}
