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
  /// those back, as a get would have. Only values that can hold a handle
  /// are decoded. The item a put or get was cut short in (`pending`) is
  /// not: its bytes may be half written.
  static func dropCounts(_ item: Int, format: Int32) {
    let p = Arena.shared.at(item)
    let n = Int(p.load(fromByteOffset: 8, as: Int64.self))
    guard n > 0 else { return }
    if format != ItemFormat.values.rawValue {
      droppers[format]?([UInt8](UnsafeRawBufferPointer(start: p + itemHeader, count: n)))
      return
    }
    dropValue([UInt8](UnsafeRawBufferPointer(start: p + itemHeader, count: n)), from: 0)
  }

  /// Gives back the counts an encoded value at `from` carries, if its
  /// first tag says it can carry any.
  static func dropValue(_ bytes: [UInt8], from: Int) {
    guard from < bytes.count, let t = Codec.Tag(rawValue: bytes[from]) else { return }
    switch t {
    case .list, .map, .function, .handle:
      _ = try? Codec.decode(bytes, from: from, countedHandles: true)
    default: return
    }
  }
}
