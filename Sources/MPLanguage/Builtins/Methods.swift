/// Methods of lists, strings and maps, and member access on objects.
extension Interpreter {
  static let listMethods = ["push", "append", "pop", "insert", "index", "slice", "remove", "extend", "reverse", "sort", "clear", "copy", "contains"]
  static let stringMethods = ["upper", "lower", "split", "join", "strip", "lstrip", "rstrip", "startswith", "endswith", "replace", "find", "slice", "contains", "count", "lines"]
  static let mapMethods = ["keys", "values", "items", "get", "remove", "contains", "copy", "clear"]

  /// Method names offered after `.` for a value (REPL completion).
  public static func methodNames(of v: Value) -> [String] {
    switch v {
    case .list: return listMethods
    case .str: return stringMethods
    case .map: return mapMethods
    case .object(let o): return o.memberNames
    default: return []
    }
  }

  func getMember(_ v: Value, _ name: String, _ loc: SourceLocation) throws -> Value {
    switch v {
    case .object(let o):
      do {
        if let r = try o.member(name) { return r }
      } catch let e as MPError { throw e.located(loc) }
      if o.memberNames.contains(name) { return .object(BoundMethod(v, name)) }
      throw noMember(v, name, loc)
    case .list where Interpreter.listMethods.contains(name),
      .str where Interpreter.stringMethods.contains(name),
      .map where Interpreter.mapMethods.contains(name):
      return .object(BoundMethod(v, name))
    default:
      throw noMember(v, name, loc)
    }
  }

  func setMember(_ v: Value, _ name: String, _ newValue: Value, _ loc: SourceLocation) throws {
    if case .object(let o) = v {
      do {
        if try o.setMember(name, newValue) { return }
      } catch let e as MPError { throw e.located(loc) }
    }
    if case .map = v {
      throw MPError(.type, "cannot set member '\(name)' of a map; use m[\"\(name)\"] = ...", at: loc)
    }
    throw MPError(.type, "cannot set member '\(name)' of a \(v.typeName)", at: loc)
  }

  func noMember(_ v: Value, _ name: String, _ loc: SourceLocation) -> MPError {
    let names = Interpreter.methodNames(of: v)
    var msg = "\(v.typeName) has no member '\(name)'"
    if case .object(let m as ModuleScope) = v { msg = "module '\(m.name)' has no member '\(name)'" }
    if let s = nearestName(name, among: names) { msg += "; did you mean '\(s)'?" }
    if case .map = v, names.contains(name) == false { msg += " (use m[\"\(name)\"] for map entries)" }
    return MPError(.name, msg, at: loc)
  }

  public func callMethod(_ v: Value, _ name: String, _ args: [Value], _ loc: SourceLocation) throws -> Value {
    do {
      switch v {
      case .list(let l): if let r = try listMethod(l, name, args) { return r }
      case .str(let s): if let r = try stringMethod(s, name, args) { return r }
      case .map(let m): if let r = try mapMethod(m, name, args) { return r }
      case .object(let o):
        callSite = loc
        if let r = try o.callMethod(name, args, self) { return r }
        if let f = try o.member(name) { return try call(f, args, at: loc) }
      default: break
      }
    } catch let e as MPError {
      throw e.located(loc)
    }
    throw noMember(v, name, loc)
  }

  private func argc(_ name: String, _ args: [Value], _ lo: Int, _ hi: Int) throws {
    if args.count < lo || args.count > hi {
      throw MPError(.type, "\(name)() takes \(Interpreter.arityText(lo, hi)), got \(args.count)")
    }
  }

  private func listMethod(_ l: ListRef, _ name: String, _ args: [Value]) throws -> Value? {
    switch name {
    case "push", "append":
      try argc(name, args, 1, 1)
      l.items.append(args[0])
      return .nil
    case "pop":
      try argc(name, args, 0, 1)
      guard !l.items.isEmpty else { throw MPError(.index, "pop from an empty list") }
      let i = args.isEmpty ? l.items.count - 1 : try normalizeIndex(args[0], count: l.items.count, what: "list", noLoc)
      return l.items.remove(at: i)
    case "insert":
      try argc(name, args, 2, 2)
      guard case .int(var i) = args[0] else { throw MPError(.type, "insert() index must be an int, found \(args[0].typeName)") }
      if i < 0 { i += l.items.count }
      l.items.insert(args[1], at: max(0, min(i, l.items.count)))
      return .nil
    case "index":
      try argc(name, args, 1, 1)
      guard let i = try l.items.firstIndex(where: { try valuesEqual($0, args[0]) }) else {
        throw MPError(.value, "\(args[0].repr) is not in the list")
      }
      return .int(i)
    case "contains":
      try argc(name, args, 1, 1)
      return .bool(try l.items.contains { try valuesEqual($0, args[0]) })
    case "slice":
      try argc(name, args, 1, 2)
      let (a, b) = try sliceBounds(args, count: l.items.count)
      return .list(ListRef(a < b ? Array(l.items[a..<b]) : []))
    case "remove":
      try argc(name, args, 1, 1)
      guard let i = try l.items.firstIndex(where: { try valuesEqual($0, args[0]) }) else {
        throw MPError(.value, "\(args[0].repr) is not in the list")
      }
      l.items.remove(at: i)
      return .nil
    case "extend":
      try argc(name, args, 1, 1)
      l.items.append(contentsOf: try iterate(args[0]))
      return .nil
    case "reverse":
      try argc(name, args, 0, 0)
      l.items.reverse()
      return .nil
    case "sort":
      try argc(name, args, 0, 2)
      l.items = try sortValues(l.items, key: args.first, reverse: args.count > 1 && args[1].isTruthy)
      return .nil
    case "clear":
      try argc(name, args, 0, 0)
      l.items.removeAll()
      return .nil
    case "copy":
      try argc(name, args, 0, 0)
      return .list(ListRef(l.items))
    default: return nil
    }
  }

  /// Python's slice rules: negative bounds count from the end, out-of-range bounds clamp.
  func sliceBounds(_ args: [Value], count: Int) throws -> (Int, Int) {
    func bound(_ v: Value, _ what: String) throws -> Int {
      if case .nil = v { return what == "start" ? 0 : count }
      guard case .int(var i) = v else { throw MPError(.type, "slice \(what) must be an int, found \(v.typeName)") }
      if i < 0 { i += count }
      return max(0, min(i, count))
    }
    let a = try bound(args[0], "start")
    let b = args.count > 1 ? try bound(args[1], "end") : count
    return (a, b)
  }

  private func mapMethod(_ m: MapRef, _ name: String, _ args: [Value]) throws -> Value? {
    func key(_ v: Value) throws -> MapKey {
      guard let k = MapKey(v) else { throw MPError(.type, "map keys must be strings, ints or bools, found \(v.typeName)") }
      return k
    }
    // Names are compared in order: the one called in loops comes first.
    switch name {
    case "get":
      try argc(name, args, 1, 2)
      return m[try key(args[0])] ?? (args.count > 1 ? args[1] : .nil)
    case "keys": try argc(name, args, 0, 0); return .list(ListRef(m.keys.map { $0.value }))
    case "values": try argc(name, args, 0, 0); return .list(ListRef(m.values))
    case "items":
      try argc(name, args, 0, 0)
      return .list(ListRef(m.keys.indices.map { .list(ListRef([m.keys[$0].value, m.values[$0]])) }))
    case "contains": try argc(name, args, 1, 1); return .bool(MapKey(args[0]).map { m.contains($0) } ?? false)
    case "remove":
      try argc(name, args, 1, 1)
      let k = try key(args[0])
      guard let v = m[k] else { throw MPError(.key, "key \(args[0].repr) not found in map") }
      m[k] = nil
      return v
    case "copy":
      try argc(name, args, 0, 0)
      let c = MapRef()
      for (i, k) in m.keys.enumerated() { c[k] = m.values[i] }
      return .map(c)
    case "clear":
      try argc(name, args, 0, 0)
      for k in m.keys { m[k] = nil }
      return .nil
    default: return nil
    }
  }

  /// The items of anything `for` can walk, as an array (for built-ins).
  public func iterate(_ v: Value) throws -> [Value] {
    switch v {
    case .list(let l): return l.items
    case .str(let s): return stringChars(s)
    case .map(let m): return m.keys.map { $0.value }
    case .object(let o):
      if let r = o as? RangeObject { return try r.items() }
      if let next = try o.makeIterator(self) {
        var out: [Value] = []
        while let x = try next() { out.append(x) }
        return out
      }
      throw MPError(.type, "cannot iterate over a \(o.typeName)")
    default:
      throw MPError(.type, "cannot iterate over a value of type \(v.typeName)")
    }
  }
}

let noLoc = SourceLocation(file: "", line: 0, column: 0)

extension Value {
  var isNilValue: Bool { if case .nil = self { return true }; return false }
}

/// `xs.push` without a call: a method bound to its receiver.
final class BoundMethod: MPObject {
  let receiver: Value
  let name: String
  init(_ receiver: Value, _ name: String) {
    self.receiver = receiver
    self.name = name
  }
  override var typeName: String { "function" }
  override var repr: String { "<method \(receiver.typeName).\(name)>" }
  override func call(_ args: [Value], _ interp: Interpreter) throws -> Value? {
    try interp.callMethod(receiver, name, args, noLoc)
  }
}
