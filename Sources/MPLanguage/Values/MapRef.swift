import Glibc

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
