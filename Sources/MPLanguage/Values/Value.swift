/// An mp value. Numbers, booleans and nil are inline; strings are Swift
/// strings; lists, maps, functions and runtime handles are references, so a
/// list passed to a function is the same list (reference semantics inside one
/// process; the codec copies them between processes).
public enum Value {
  case `nil`
  case bool(Bool)
  case int(Int)
  case float(Double)
  indirect case str(String)
  case list(ListRef)
  case map(MapRef)
  case function(Closure)
  case builtin(Builtin)
  /// Runtime handles (lock, queue, process, ...), modules, bound methods.
  case object(MPObject)

  /// True for the cases stored wholly inline (nil, bool, int, float):
  /// releasing them is a no-op, and frames skip the call that would do it.
  @inline(__always)
  var isInline: Bool {
    switch self {
    case .nil, .bool, .int, .float: return true
    default: return false
    }
  }

  /// Falsy: nil, false, 0, 0.0, "", [], {}.
  @inline(__always)
  public var isTruthy: Bool {
    switch self {
    case .nil: return false
    case .bool(let b): return b
    case .int(let i): return i != 0
    case .float(let d): return d != 0
    case .str(let s): return !s.isEmpty
    case .list(let l): return !l.items.isEmpty
    case .map(let m): return m.count != 0
    default: return true
    }
  }

  /// The name `type(v)` returns.
  public var typeName: String {
    switch self {
    case .nil: return "nil"
    case .bool: return "bool"
    case .int: return "int"
    case .float: return "float"
    case .str: return "string"
    case .list: return "list"
    case .map: return "map"
    case .function, .builtin: return "function"
    case .object(let o): return o.typeName
    }
  }
}

/// A mutable list with reference semantics.
public final class ListRef {
  @exclusivity(unchecked) public var items: [Value]
  public init(_ items: [Value]) { self.items = items }

  // Freeing a list nested 100,000 deep must not recurse once per level.
  deinit {
    if items.isEmpty { return }
    var work = items
    items = []
    dismantle(&work)
  }
}

/// Releases nested lists and maps with an explicit worklist: a container
/// only the worklist still holds is emptied into it before it is freed, so
/// its deinit has nothing left to recurse into.
func dismantle(_ values: inout [Value]) {
  var lists: [ListRef] = []
  var maps: [MapRef] = []
  func collect(_ vs: [Value]) {
    for v in vs {
      switch v {
      case .list(let l): lists.append(l)
      case .map(let m): maps.append(m)
      default: break
      }
    }
  }
  collect(values)
  values = []
  while true {
    if var l = lists.popLast() {
      if isKnownUniquelyReferenced(&l) {
        let inner = l.items
        l.items = []
        collect(inner)
      }
    } else if var m = maps.popLast() {
      if isKnownUniquelyReferenced(&m) { collect(m.takeValues()) }
    } else {
      return
    }
  }
}

/// A variable captured by an inner function: the declaring frame and every
/// closure that captured it share this box.
public final class Cell: MPObject {
  public var value: Value
  public init(_ v: Value) { value = v }
  public override var typeName: String { "cell" }
}

/// Base class of every runtime object mp code can hold: locks, queues,
/// processes, modules, bound methods. Equality is identity.
open class MPObject {
  public init() {}
  open var typeName: String { "object" }
  /// How `print` and `repr` show it: `<lock 3>`.
  open var repr: String { "<\(typeName)>" }
  /// `obj.name`; nil means "no such member".
  open func member(_ name: String) throws -> Value? { nil }
  /// `obj.name = v`; false means "no such settable member".
  open func setMember(_ name: String, _ value: Value) throws -> Bool { false }
  /// `obj.name(args)`; nil means "no such method".
  open func callMethod(_ name: String, _ args: [Value], _ interp: Interpreter) throws -> Value? { nil }
  /// `obj(args)`; nil means "not callable".
  open func call(_ args: [Value], _ interp: Interpreter) throws -> Value? { nil }
  /// Names offered by REPL completion after `obj.`.
  open var memberNames: [String] { [] }
  /// `with obj { }` entry and exit; nil from enter means "not usable with `with`".
  open func enter(_ interp: Interpreter) throws -> Value? { nil }
  open func exit(_ interp: Interpreter) throws {}
  /// `obj[i]`; nil means "cannot be indexed".
  open func getItem(_ index: Value) throws -> Value? { nil }
  /// `obj[i] = v`; false means "cannot be assigned into".
  open func setItem(_ index: Value, _ value: Value) throws -> Bool { false }
  /// `x in obj`; nil means "'in' is not defined for it".
  open func containsItem(_ x: Value) throws -> Bool? { nil }
  /// Leaving a `with` block by an error: by default the same as `exit`
  /// (a lock is released); a pool terminates its workers instead of
  /// letting them finish, as Python's `with Pool` does.
  open func exitAfterError(_ interp: Interpreter) { try? exit(interp) }
  /// `for x in obj`: the next item, or nil when done. nil from makeIterator means "not iterable".
  open func makeIterator(_ interp: Interpreter) throws -> (() throws -> Value?)? { nil }
}
