import Glibc

/// Writing bytes to file descriptors: every line mp prints goes through here.

/// Writes all of `s` to `fd` with as few write(2) calls as the kernel allows
/// (one for a line of ordinary size), retrying on EINTR.
public func writeAll(_ fd: Int32, _ s: String) {
  var s = s
  s.withUTF8 { _ = writeRaw(fd, UnsafeRawBufferPointer($0)) }
}

/// Writes all of `bytes` to `fd`, retrying on EINTR and partial writes.
/// Returns false if the other end is gone.
@discardableResult
public func writeAllBytes(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
  bytes.withUnsafeBytes { writeRaw(fd, $0) }
}

/// Serialises writes to stdout and stderr across processes: the kernel
/// keeps a write whole only up to PIPE_BUF bytes on a pipe, and a short
/// write can land inside a long one, so every write takes the lock (a
/// print's system call costs far more than it). The runtime sets it to a
/// process-shared robust lock (docs/reference.md, "Output").
nonisolated(unsafe) public var longWriteLock: (lock: () -> Void, unlock: () -> Void)? = nil

private func writeRaw(_ fd: Int32, _ buf: UnsafeRawBufferPointer) -> Bool {
  guard let base = buf.baseAddress else { return true }
  if fd == 1 || fd == 2, let l = longWriteLock {
    l.lock()
    defer { l.unlock() }
    return writeLoop(fd, base, buf.count)
  }
  return writeLoop(fd, base, buf.count)
}

private func writeLoop(_ fd: Int32, _ base: UnsafeRawPointer, _ count: Int) -> Bool {
  let buf = UnsafeRawBufferPointer(start: base, count: count)
  var off = 0
  while off < buf.count {
    let n = write(fd, base + off, buf.count - off)
    if n < 0 {
      if errno == EINTR { continue }
      return false
    }
    off += n
  }
  return true
}
