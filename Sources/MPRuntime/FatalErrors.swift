import Glibc

extension Runtime {
  /// A Swift runtime failure in a script or a child (most often memory
  /// running out under a limit: "Fatal error: failed to allocate N bytes")
  /// writes its one-line message through stdio's `stderr` and flushes it,
  /// then writes a stack trace through the same stream and aborts. mp
  /// itself writes whole lines to fd 2, never through `stderr`, so making
  /// that stream fully buffered keeps the trace in a buffer that abort()
  /// never flushes: the user sees the one line (and, for a child, the
  /// parent's report of its death), not dozens of addresses.
  public static func quietRuntimeTraces() {
    // glibc ignores the size when it allocates the buffer itself (it took
    // 4 KiB and flushed half a trace): give it one, allocated once per
    // process, before memory can run out. A trace is ~8 KiB.
    // Set once: a forked child inherits the stream as it is.
    guard traceBuffer == nil else { return }
    traceBuffer = malloc(traceBufferSize)?.assumingMemoryBound(to: CChar.self)
    setvbuf(stderr, traceBuffer, _IOFBF, traceBufferSize)
  }

  nonisolated(unsafe) static var traceBuffer: UnsafeMutablePointer<CChar>? = nil
  static let traceBufferSize = 1 << 18
}
