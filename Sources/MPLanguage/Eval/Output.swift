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

/// The REPL's prompt on a terminal, shared by every process of the session
/// (docs/reference.md, "The REPL"). While the REPL waits for a line, a
/// write to the terminal would land in the middle of the prompt and the
/// typed text; instead the writer clears the prompt's row, ends its text
/// with a newline and wakes the REPL, which redraws the prompt and the
/// typed text below it. The REPL sets this before any child exists, so
/// every process inherits it; it is read and changed under the output lock.
public struct PromptLine {
  /// In a page every process shares: `idle` (no prompt: a statement runs),
  /// `shown` (the prompt is on screen) or `erased` (a writer cleared it and
  /// woke the REPL, which has not redrawn it yet).
  public let state: UnsafeMutablePointer<Int32>
  /// The REPL polls the other end of this pipe (non-blocking) with stdin.
  public let wakeFD: Int32
  /// Bit `1 << fd` set for each of fd 1 and 2 that is the terminal: a write
  /// to a file or pipe leaves the prompt alone.
  public let terminalFDs: Int32

  public static let idle: Int32 = 0
  public static let erased: Int32 = 1
  public static let shown: Int32 = 2

  public init(state: UnsafeMutablePointer<Int32>, wakeFD: Int32, terminalFDs: Int32) {
    self.state = state
    self.wakeFD = wakeFD
    self.terminalFDs = terminalFDs
  }

  /// A write under the output lock while the prompt is up. The state
  /// changes and the wake go first: a writer killed half-way still gets
  /// the prompt redrawn.
  fileprivate func write(_ fd: Int32, _ base: UnsafeRawPointer, _ count: Int) -> Bool {
    if state.pointee == PromptLine.shown {
      state.pointee = PromptLine.erased
      var byte: UInt8 = 1
      _ = Glibc.write(wakeFD, &byte, 1)
      _ = writeLoop(fd, clearRow, clearRow.count)
    }
    let ok = writeLoop(fd, base, count)
    // The prompt is redrawn at the start of a row.
    if count > 0, base.load(fromByteOffset: count - 1, as: UInt8.self) != 10 {
      _ = writeLoop(fd, newline, 1)
    }
    return ok
  }
}

/// Carriage return, then erase to the end of the row.
private let clearRow: [UInt8] = [13, 27, 91, 75]
private let newline: [UInt8] = [10]

/// Set by the REPL on a terminal; see `PromptLine`.
nonisolated(unsafe) public var promptLine: PromptLine? = nil

private func writeRaw(_ fd: Int32, _ buf: UnsafeRawBufferPointer) -> Bool {
  guard let base = buf.baseAddress else { return true }
  if fd == 1 || fd == 2, let l = longWriteLock {
    l.lock()
    defer { l.unlock() }
    if let p = promptLine, p.terminalFDs & (1 << fd) != 0, p.state.pointee != PromptLine.idle {
      return p.write(fd, base, buf.count)
    }
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
