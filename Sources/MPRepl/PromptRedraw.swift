@preconcurrency import CLibEdit
import CMPShim
import Glibc
import MPLanguage

/// Keeps the prompt and the typed text whole when a child writes to the
/// terminal while the user types (docs/reference.md, "The REPL").
///
/// Every process's writes to the terminal go through `writeAll`, under the
/// output lock; `PromptLine` (shared by every process) tells them whether a
/// prompt is up. A writer that finds it up clears the prompt's row, writes
/// its lines and wakes the REPL through a pipe. The REPL reads keys through
/// its own libedit getc function, which polls stdin and that pipe: on a
/// wake it redraws the prompt and the typed text below the new lines.
/// readline() itself stays in charge of editing, so history, completion,
/// continuation prompts, Ctrl-C and Ctrl-D behave as without it. No thread:
/// the waiting is one poll().
enum PromptRedraw {
  nonisolated(unsafe) private static var line: PromptLine?
  nonisolated(unsafe) private static var wakeReadFD: Int32 = -1
  nonisolated(unsafe) private static var outputFD: Int32 = 1
  /// Bytes of a multi-byte character read so far.
  nonisolated(unsafe) private static var pending: [CChar] = []

  /// Sets it up, before libedit is initialised (it installs the getc
  /// function then) and before any child exists (children inherit the
  /// shared page and the pipe). Off without the runtime's output lock (no
  /// other process can write), when neither stdout nor stderr is a
  /// terminal, and on a terminal that cannot erase a row.
  static func install(outputFD: Int32) {
    guard line == nil, longWriteLock != nil, isatty(0) != 0 else { return }
    let terminalFDs = (isatty(1) != 0 ? Int32(1 << 1) : 0) | (isatty(2) != 0 ? Int32(1 << 2) : 0)
    guard terminalFDs != 0 else { return }
    if let term = getenv("TERM").map({ String(cString: $0) }), term == "dumb" || term.isEmpty { return }
    guard let page = mmap(nil, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0),
      page != MAP_FAILED
    else { return }
    var fds: [Int32] = [0, 0]
    guard mp_pipe_cloexec(&fds) == 0 else {
      munmap(page, 4096)
      return
    }
    // A writer must never block on a REPL that is slow to read, and the
    // REPL drains without blocking.
    for fd in fds { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
    let state = page.assumingMemoryBound(to: Int32.self)
    state.pointee = PromptLine.idle
    wakeReadFD = fds[0]
    self.outputFD = outputFD
    let l = PromptLine(state: state, wakeFD: fds[1], terminalFDs: terminalFDs)
    line = l
    promptLine = l
    rl_getc_function = readKey
  }

  /// Around each readline(): the prompt is up from just before libedit
  /// draws it until the line is read.
  static func promptShown(_ up: Bool) {
    guard let line, let lock = longWriteLock else { return }
    lock.lock()
    line.state.pointee = up ? PromptLine.shown : PromptLine.idle
    lock.unlock()
    if !up { drainWakes() }
  }

  private static func drainWakes() {
    var buf = [UInt8](repeating: 0, count: 64)
    while read(wakeReadFD, &buf, buf.count) > 0 {}
  }

  /// After a writer erased the prompt: draw it again, with the typed text
  /// and the cursor where they were. libedit draws from where it believes
  /// the prompt starts, so the cursor first goes to the start of the row
  /// (keys typed since the writer's lines may have been echoed there).
  private static func redraw() {
    drainWakes()
    guard let line, let lock = longWriteLock else { return }
    lock.lock()
    defer { lock.unlock() }
    guard line.state.pointee == PromptLine.erased else { return }
    let clear: [UInt8] = [13, 27, 91, 75]
    _ = write(outputFD, clear, clear.count)
    rl_forced_update_display()
    line.state.pointee = PromptLine.shown
  }

  /// libedit's getc function: the next character typed, decoded as libedit
  /// itself does (mbrtowc, one byte at a time), or -1 (libedit: end of
  /// input) for Ctrl-C, a closed terminal or a read error. Signals other
  /// than SIGINT (a finished child's SIGCHLD) do not cut the line short.
  static let readKey: @convention(c) (UnsafeMutablePointer<FILE>?) -> Int32 = { _ in
    while true {
      var fds = [pollfd(fd: 0, events: Int16(POLLIN), revents: 0),
                 pollfd(fd: wakeReadFD, events: Int16(POLLIN), revents: 0)]
      if poll(&fds, 2, -1) < 0 {
        if errno == EINTR && mp_interrupt_flag == 0 { continue }
        pending.removeAll()
        return -1
      }
      if fds[1].revents != 0 { redraw() }
      guard fds[0].revents != 0 else { continue }
      var byte: CChar = 0
      let n = read(0, &byte, 1)
      if n < 0 && errno == EINTR && mp_interrupt_flag == 0 { continue }
      guard n == 1 else {
        pending.removeAll()
        return -1
      }
      pending.append(byte)
      if let c = decodePending() { return c }
    }
  }

  /// The character `pending` spells, or nil when more bytes are needed.
  /// An invalid sequence is dropped except its last byte, as libedit does.
  private static func decodePending() -> Int32? {
    while !pending.isEmpty {
      var wc: wchar_t = 0
      var state = mbstate_t()
      let r = pending.withUnsafeBufferPointer { mbrtowc(&wc, $0.baseAddress, $0.count, &state) }
      if r == -2 {
        if pending.count < 16 { return nil }
        pending.removeAll()
      } else if r == -1 {
        pending = pending.count > 1 ? [pending[pending.count - 1]] : []
      } else {
        pending.removeAll()
        return Int32(wc)
      }
    }
    return nil
  }
}
