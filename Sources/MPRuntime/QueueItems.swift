import CMPShim
import Glibc
import MPLanguage

extension QueueHandle {
  /// Marks a queue whose items are a pool's own messages (chunks, results):
  /// not values, so a finalizer must not decode them.
  func markRaw() {
    mp_atomic_store32(i32(QueueHandle.rawOff), 1)
  }

  /// An item still queued when its queue goes holds a count on every
  /// handle it carries (a lock, a queue put in a queue): decoding it gives
  /// those back, as a get would have. Only values that can hold a handle
  /// are decoded. The item a put or get was cut short in (`pending`) is
  /// not: its bytes may be half written.
  static func dropCounts(_ item: Int) {
    let p = Arena.shared.at(item)
    let n = Int(p.load(fromByteOffset: 8, as: Int64.self))
    guard n > 0 else { return }
    let tag = p.load(fromByteOffset: itemHeader, as: UInt8.self)
    let mayHoldHandles: [Codec.Tag] = [.list, .map, .function, .handle]
    guard let t = Codec.Tag(rawValue: tag), mayHoldHandles.contains(t) else { return }
    let bytes = [UInt8](UnsafeRawBufferPointer(start: p + itemHeader, count: n))
    _ = try? Codec.decode(bytes, countedHandles: true)
  }
}
