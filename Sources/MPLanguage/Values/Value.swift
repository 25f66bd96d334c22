import Glibc

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

/// The keys a map accepts. Bools stay distinct from ints (unlike Python,
/// where `{1: "a", true: "b"}` has one entry); a float key that is a whole
/// number is the same key as that int, so `m[1.0]` finds `m[1]`.
public enum MapKey: Hashable {
  case int(Int)
  case str(String)
  case bool(Bool)

  public var value: Value {
    switch self {
    case .int(let i): return .int(i)
    case .str(let s): return .str(s)
    case .bool(let b): return .bool(b)
    }
  }

  /// The key for a value, or nil if the value cannot be a key.
  public init?(_ v: Value) {
    switch v {
    case .int(let i): self = .int(i)
    case .str(let s): self = .str(s)
    case .bool(let b): self = .bool(b)
    case .float(let d):
      guard d.rounded() == d, let i = Int(exactly: d) else { return nil }
      self = .int(i)
    default: return nil
    }
  }
}

/// An insertion-ordered map: entries in two dense arrays, found through an
/// open-addressing table of entry numbers.
///
/// Not Swift's Dictionary: its SipHash and its copy-on-write and
/// exclusivity checks made map-heavy code half as fast as CPython. Keys are
/// compared by their bytes, as Python does (`"é"` and `"e\u{301}"` are two
/// keys), where Swift's String equality would merge canonical equivalents.
public final class MapRef {
  @exclusivity(unchecked) public private(set) var keys: [MapKey] = []
  @exclusivity(unchecked) public private(set) var values: [Value] = []
  @exclusivity(unchecked) private var hashes: [Int] = []
  /// Entry number + 1 per slot, 0 for an empty slot; nil until the first
  /// insert. At most half full, so probes stay short.
  private var slots: UnsafeMutablePointer<Int32>? = nil
  private var mask = 0

  public init() {}

  public var count: Int { keys.count }

  public subscript(key: MapKey) -> Value? {
    get {
      let (e, _) = find(key, MapRef.hash(key))
      return e >= 0 ? values[e] : nil
    }
    set {
      let h = MapRef.hash(key)
      let (e, slot) = find(key, h)
      if let v = newValue {
        if e >= 0 {
          values[e] = v
          return
        }
        if keys.count >= Int(Int32.max) - 1 { return }
        keys.append(key)
        values.append(v)
        hashes.append(h)
        if let slots, (keys.count) * 2 <= mask + 1 {
          slots[slot] = Int32(keys.count)
        } else {
          rebuild()
        }
      } else if e >= 0 {
        keys.remove(at: e)
        values.remove(at: e)
        hashes.remove(at: e)
        rebuild()
      }
    }
  }

  public func contains(_ key: MapKey) -> Bool { find(key, MapRef.hash(key)).0 >= 0 }

  /// The entry holding `key` (-1 if none), and the slot where the probe
  /// ended (where the key would go).
  @inline(__always)
  private func find(_ key: MapKey, _ h: Int) -> (Int, Int) {
    guard let slots else { return (-1, 0) }
    var i = h & mask
    while true {
      let s = Int(slots[i])
      if s == 0 { return (-1, i) }
      if hashes[s - 1] == h && MapRef.same(keys[s - 1], key) { return (s - 1, i) }
      i = (i + 1) & mask
    }
  }

  /// Sizes the table for the entries and fills it again.
  private func rebuild() {
    var cap = 8
    while cap < keys.count * 2 + 2 { cap *= 2 }
    if cap != mask + 1 || slots == nil {
      slots?.deallocate()
      slots = .allocate(capacity: cap)
      mask = cap - 1
    }
    guard let slots else { return }
    slots.initialize(repeating: 0, count: cap)
    for (e, h) in hashes.enumerated() {
      var i = h & mask
      while slots[i] != 0 { i = (i + 1) & mask }
      slots[i] = Int32(e + 1)
    }
  }

  /// A cheap, well-mixed hash (the finaliser of MurmurHash3 over ints; the
  /// UTF-8 bytes of strings eight at a time).
  @inline(__always)
  static func hash(_ k: MapKey) -> Int {
    switch k {
    case .int(let i): return mix(UInt64(bitPattern: Int64(i)))
    case .bool(let b): return mix(b ? 0x5bd1_e995 : 0x1b87_3593)
    case .str(let s):
      var s = s
      return s.withUTF8 { b -> Int in
        var h: UInt64 = 0xcbf2_9ce4_8422_2325 ^ UInt64(b.count)
        guard let p = b.baseAddress else { return mix(h) }
        let raw = UnsafeRawPointer(p)
        var i = 0
        while i + 8 <= b.count {
          h = (h ^ raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0x0000_0100_0000_01b3
          h ^= h >> 29
          i += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while i < b.count {
          tail |= UInt64(p[i]) << shift
          shift += 8
          i += 1
        }
        return mix(h ^ tail)
      }
    }
  }

  @inline(__always)
  static func mix(_ x: UInt64) -> Int {
    var h = x
    h ^= h >> 33
    h = h &* 0xff51_afd7_ed55_8ccd
    h ^= h >> 33
    h = h &* 0xc4ce_b9fe_1a85_ec53
    h ^= h >> 33
    return Int(bitPattern: UInt(h))
  }

  @inline(__always)
  static func same(_ a: MapKey, _ b: MapKey) -> Bool {
    switch (a, b) {
    case (.int(let x), .int(let y)): return x == y
    case (.bool(let x), .bool(let y)): return x == y
    case (.str(let x), .str(let y)): return sameCodePoints(x, y)
    default: return false
    }
  }

  /// Empties the map, handing back its values (for `dismantle`).
  func takeValues() -> [Value] {
    let vs = values
    values = []
    keys = []
    hashes = []
    slots?.deallocate()
    slots = nil
    mask = 0
    return vs
  }

  deinit {
    slots?.deallocate()
    if values.isEmpty { return }
    var work = values
    values = []
    dismantle(&work)
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
  /// `for x in obj`: the next item, or nil when done. nil from makeIterator means "not iterable".
  open func makeIterator(_ interp: Interpreter) throws -> (() throws -> Value?)? { nil }
}

/// String equality as Python has it: the same code points. (Swift's `==`
/// also equates canonically equivalent strings, such as a precomposed `é`
/// and `e` followed by a combining accent.)
@inline(__always)
func sameCodePoints(_ a: String, _ b: String) -> Bool {
  var a = a, b = b
  return a.withUTF8 { p in
    b.withUTF8 { q in
      p.count == q.count && (p.count == 0 || memcmp(p.baseAddress!, q.baseAddress!, p.count) == 0)
    }
  }
}

extension String {
  /// The number of Unicode scalars (what `len` counts), from the UTF-8
  /// bytes eight at a time: every byte but a continuation byte starts one.
  var scalarCount: Int {
    var s = self
    return s.withUTF8 { b -> Int in
      guard let p = b.baseAddress else { return 0 }
      let n = b.count
      var continuation = 0
      var i = 0
      let raw = UnsafeRawPointer(p)
      while i + 8 <= n {
        let w = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
        // A continuation byte is 10xxxxxx: bit 7 set and bit 6 clear.
        let c = w & ~(w << 1) & 0x8080_8080_8080_8080
        continuation += c.nonzeroBitCount
        i += 8
      }
      while i < n {
        if p[i] & 0xC0 == 0x80 { continuation += 1 }
        i += 1
      }
      return n - continuation
    }
  }
}
