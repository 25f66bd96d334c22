import CMPShim
import Glibc
import MPLanguage

extension QueueHandle {
  /// What a queue's items are, so that the items left in it when it goes
  /// give back the objects they carry: values (`queue()`, pipes), or a
  /// pool's own messages, whose values sit after a header.
  enum ItemFormat: Int32 {
    case values = 0
    case poolTasks = 1
    case poolResults = 2
  }

  func mark(_ format: ItemFormat) {
    mp_atomic_store32(i32(QueueHandle.formatOff), format.rawValue)
  }

  /// How each pool message format gives back its counts (PoolWorker).
  nonisolated(unsafe) static var droppers: [Int32: ([UInt8]) -> Void] = [:]

  /// An item still queued when its queue goes holds a count on every
  /// handle it carries (a lock, a queue put in a queue): decoding it gives
  /// those back, as a get would have. The items' bytes are copied out under
  /// the queue's locks (`keep` says which need it) and given back here,
  /// once the locks are let go. An item a put was cut short in was never
  /// published, so it is not among them.
  static func keep(_ item: UnsafeRawBufferPointer, format: Int32) -> Bool {
    if format != ItemFormat.values.rawValue { return droppers[format] != nil }
    guard let tag = item.first, let t = Codec.Tag(rawValue: tag) else { return false }
    return t == .list || t == .map || t == .function || t == .handle || t == .counted
  }

  /// The objects whose counts an item carries, as its `Tag.counted` header
  /// lists them (nil when it has none), read in place under the get lock.
  /// Where the header is depends on the format: a value starts the item;
  /// a pool task's items and a pool result's values follow their header.
  static func carriedCounts(_ body: UnsafeRawBufferPointer, format: Int32) -> [Int]? {
    var pos = 0
    switch format {
    case ItemFormat.values.rawValue:
      break
    case ItemFormat.poolTasks.rawValue:
      guard body.first == 1, let (_, _, at) = PoolWorker.peek(body) else { return nil }
      pos = at
      guard PoolWorker.varint(body, &pos) != nil, PoolWorker.varint(body, &pos) != nil else { return nil }
    case ItemFormat.poolResults.rawValue:
      guard PoolWorker.varint(body, &pos) != nil, PoolWorker.varint(body, &pos) != nil,
        pos < body.count, body[pos] == 0
      else { return nil }
      pos += 1
    default:
      return nil
    }
    guard pos < body.count, body[pos] == Codec.Tag.counted.rawValue else { return nil }
    pos += 1
    guard let k = PoolWorker.varint(body, &pos), k > 0, k <= body.count - pos else { return nil }
    var list: [Int] = []
    list.reserveCapacity(k)
    for _ in 0..<k {
      guard let off = PoolWorker.varint(body, &pos), off >= Arena.heapStart, off < Arena.shared.size else { return nil }
      list.append(off)
    }
    return list
  }

  static func dropCounts(_ items: [[UInt8]], format: Int32) {
    for bytes in items {
      if format != ItemFormat.values.rawValue {
        droppers[format]?(bytes)
      } else {
        dropValue(bytes, from: 0)
      }
    }
  }

  /// Gives back the counts an encoded value at `from` carries, if its
  /// first tag says it can carry any.
  static func dropValue(_ bytes: [UInt8], from: Int) {
    guard from < bytes.count, let t = Codec.Tag(rawValue: bytes[from]) else { return }
    switch t {
    case .list, .map, .function, .handle, .counted:
      _ = try? Codec.decode(bytes, from: from, countedHandles: true)
    default: return
    }
  }
}
