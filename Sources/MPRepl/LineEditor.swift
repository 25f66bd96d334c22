@preconcurrency import CLibEdit
import CMPShim
import Glibc
import MPLanguage

/// The one place that talks to libedit: prompts, continuation lines,
/// history and its file, Tab completion, and telling Ctrl-C from Ctrl-D.
///
/// libedit's readline API keeps its state in C globals, so there is at most
/// one editor per process; a second one shares the first one's history.
final class LineEditor {
  /// What one `readEntry` call produced.
  enum Input: Equatable {
    /// Complete input: one or more lines joined by "\n", without the last newline.
    case entry(String)
    /// Ctrl-C at a prompt: whatever was typed of the entry is dropped.
    case interrupt
    /// Ctrl-D on an empty line (or the terminal went away).
    case eof
  }

  let historyPath: String?
  let historyLimit: Int
  /// Where prompts and the editor's own messages go.
  private(set) var outputFD: Int32 = 1

  /// `historyPath` nil: history is kept for the session only.
  init(historyPath: String?, historyLimit: Int = 1000, completer: Completer? = nil) {
    self.historyPath = historyPath
    self.historyLimit = max(1, historyLimit)
    LineEditor.setLocale()
    rl_readline_name = UnsafePointer(LineEditor.readlineName)
    // libedit's signal handlers stay off: on SIGINT they re-raise the signal
    // to the whole process group (children included), and a resize they
    // handle leaves errno at EINTR, so a later Ctrl-D looked like a cut-short
    // read. Resizes are still followed: libedit measures the terminal at
    // every prompt. mp's SIGINT handler only sets mp_interrupt_flag and,
    // having no SA_RESTART, makes readline() return NULL with the flag set:
    // that is how Ctrl-C differs from Ctrl-D.
    rl_catch_signals = 0
    mp_install_sigint()
    // `mp > out.txt` at a terminal: prompts and editing go to the terminal
    // on stderr, and the file gets only what the program prints.
    if isatty(1) == 0 && isatty(2) != 0 {
      rl_outstream = stderr
      outputFD = 2
    }
    // Before rl_initialize, which installs the getc function it sets.
    PromptRedraw.install(outputFD: outputFD)
    rl_initialize()
    using_history()
    clear_history()
    stifle_history(Int32(self.historyLimit))
    LineEditor.completer = completer
    rl_attempted_completion_function = completer == nil ? nil : LineEditor.completionHook
    rl_basic_word_break_characters = UnsafePointer(LineEditor.wordBreaks)
    rl_completion_query_items = 200
    if let historyPath, access(historyPath, R_OK) == 0 {
      _ = read_history(historyPath)
      // The file may have been written by an editor with a longer limit.
      stifle_history(Int32(self.historyLimit))
    }
  }

  /// Reads one entry: a first line at `prompt`, then further lines at
  /// `continuation` for as long as `needsMore` says the text is unfinished.
  /// The whole entry becomes one history item, so Up recalls a function
  /// definition in one piece.
  func readEntry(prompt: String, continuation: String, needsMore: (String) -> Bool) -> Input {
    var lines: [String] = []
    while true {
      switch readLine(prompt: lines.isEmpty ? prompt : continuation) {
      case .interrupt:
        return .interrupt
      case .eof:
        // Ctrl-D in the middle of an entry abandons the entry, not the session.
        if lines.isEmpty { return .eof }
        writeAll(outputFD, "\n")
        return .interrupt
      case .line(let line):
        // A recalled multi-line entry comes back as one line with newlines in it.
        lines.append(line)
        let text = lines.joined(separator: "\n")
        if needsMore(text) { continue }
        addHistory(text)
        return .entry(text)
      }
    }
  }

  private enum RawInput { case line(String), interrupt, eof }

  private func readLine(prompt: String) -> RawInput {
    while true {
      mp_interrupt_flag = 0
      errno = 0
      PromptRedraw.promptShown(true)
      let read = readline(prompt)
      PromptRedraw.promptShown(false)
      guard let raw = read else {
        if mp_interrupt_flag != 0 {
          mp_interrupt_flag = 0
          // The terminal does not echo ^C in raw mode; end the abandoned line.
          writeAll(outputFD, "^C\n")
          return .interrupt
        }
        // Another signal (say SIGCHLD from a finished child) cut the read
        // short: that is not the user leaving. Ask again.
        if errno == EINTR { continue }
        return .eof
      }
      defer { free(raw) }
      var line = String(cString: raw)
      if line.hasSuffix("\n") { line.removeLast() }
      return .line(line)
    }
  }

  /// Adds an entry to the history (not blank ones, nor a repeat of the last)
  /// and writes the history file.
  func addHistory(_ entry: String) {
    guard !entry.allSatisfy({ $0 == " " || $0 == "\t" || $0 == "\n" }) else { return }
    if entries.last != entry { _ = add_history(entry) }
    saveHistory()
  }

  /// The history, oldest first.
  var entries: [String] {
    var out: [String] = []
    let n = Int(history_length)
    guard n > 0 else { return out }
    for i in 0..<n {
      if let e = history_get(history_base + Int32(i)), let line = e.pointee.line {
        out.append(String(cString: line))
      }
    }
    return out
  }

  /// Writes the history file, readable by its owner only: history holds
  /// whatever was typed, which may include secrets.
  func saveHistory() {
    guard let historyPath else { return }
    // Create it 0600 first so it is never, even briefly, readable by others.
    let fd = open(historyPath, O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
    guard fd >= 0 else { return }
    close(fd)
    _ = write_history(historyPath)
    chmod(historyPath, 0o600)
  }

  /// `$MP_HISTORY` if set (empty: no history file), else `~/.mp_history`.
  static func defaultHistoryPath() -> String? {
    if let p = getenv("MP_HISTORY") {
      let s = String(cString: p)
      return s.isEmpty ? nil : s
    }
    guard let home = Completer.homeDirectory() else { return nil }
    return home + "/.mp_history"
  }

  /// Without a UTF-8 LC_CTYPE libedit drops every non-ASCII byte; under
  /// `env -i` the locale is C, so fall back to C.UTF-8.
  static func setLocale() {
    let name = setlocale(LC_CTYPE, "").map { String(cString: $0) }
    if name == nil || name == "C" || name == "POSIX" {
      _ = setlocale(LC_CTYPE, "C.UTF-8")
    }
  }

  // MARK: completion, through C callbacks that can capture nothing

  nonisolated(unsafe) static var completer: Completer?
  nonisolated(unsafe) static let readlineName = strdup("mp")!
  /// Everything that cannot be part of a name or path; `/` and `.` break too,
  /// so libedit's word is the last path component or the name after a dot
  /// (the Completer works on the whole line and the two are reconciled).
  nonisolated(unsafe) static let wordBreaks = strdup(" \t\n\"'`@$><=;|&{}()[],+-*/%!:.#~")!

  static let completionHook: @convention(c) (UnsafePointer<CChar>?, Int32, Int32) -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = { text, _, _ in
    rl_attempted_completion_over = 1
    rl_completion_append_character = 0
    guard let completer = LineEditor.completer, let text, let buffer = rl_line_buffer else { return nil }
    let point = Int(max(0, min(rl_point, rl_end)))
    let before = String(decoding: UnsafeRawBufferPointer(start: buffer, count: point), as: UTF8.self)
    let word = String(cString: text)
    let c = completer.complete(before)
    guard let replacements = LineEditor.reconcile(before: before, word: word, completions: c),
      !replacements.isEmpty
    else { return nil }
    if replacements.count == 1, let ch = c.suffixIfUnique.utf8.first {
      rl_completion_append_character = Int32(ch)
    }
    return LineEditor.cArray(replacements)
  }

  /// libedit replaces its own notion of the word (`word`, the end of `before`);
  /// the Completer's tokens start at `tokenStart`. Rewrites each candidate to
  /// replace libedit's word instead, or gives nil if the two cannot agree
  /// (libedit unescaped the word, say).
  static func reconcile(before: String, word: String, completions c: Completions) -> [String]? {
    let line = Array(before.unicodeScalars)
    let w = Array(word.unicodeScalars)
    guard w.count <= line.count, Array(line[(line.count - w.count)...]) == w,
      c.tokenStart <= line.count
    else { return nil }
    let libeditStart = line.count - w.count
    var out: [String] = []
    for item in c.items {
      if libeditStart >= c.tokenStart {
        let skipped = String(String.UnicodeScalarView(line[c.tokenStart..<libeditStart]))
        guard item.hasPrefix(skipped) else { continue }
        out.append(String(item.unicodeScalars.dropFirst(skipped.unicodeScalars.count)))
      } else {
        out.append(String(String.UnicodeScalarView(line[libeditStart..<c.tokenStart])) + item)
      }
    }
    return out
  }

  /// The NULL-terminated, malloc'd array libedit expects: the common prefix
  /// first (what gets inserted), then every candidate, even when there is
  /// only one (libedit reads index 2 to tell a unique match).
  static func cArray(_ items: [String]) -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? {
    guard let first = items.first else { return nil }
    var prefix = Array(first.unicodeScalars)
    for item in items.dropFirst() {
      let s = Array(item.unicodeScalars)
      var n = 0
      while n < prefix.count, n < s.count, prefix[n] == s[n] { n += 1 }
      prefix.removeSubrange(n...)
    }
    let all = [String(String.UnicodeScalarView(prefix))] + items
    guard let array = malloc(MemoryLayout<UnsafeMutablePointer<CChar>?>.stride * (all.count + 1))?
      .assumingMemoryBound(to: UnsafeMutablePointer<CChar>?.self)
    else { return nil }
    for (i, s) in all.enumerated() { array[i] = strdup(s) }
    array[all.count] = nil
    return array
  }
}
