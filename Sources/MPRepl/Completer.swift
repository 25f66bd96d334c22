import Glibc
import MPLanguage

/// What Tab may put in place of the word before the cursor.
public struct Completions: Equatable {
  /// Where the replaced token starts, counted in Unicode scalars of the line.
  public var tokenStart: Int
  /// Whole tokens (each replaces everything from `tokenStart` to the cursor), sorted.
  public var items: [String]
  /// Typed after the token when it is the only candidate: `(` after a
  /// function, a space after a keyword, a closing quote after a file name.
  public var suffixIfUnique: String

  public init(tokenStart: Int, items: [String], suffixIfUnique: String = "") {
    self.tokenStart = tokenStart
    self.items = items
    self.suffixIfUnique = suffixIfUnique
  }

  public static let none = Completions(tokenStart: 0, items: [])
}

/// Decides completion candidates from the text before the cursor alone, so
/// it can be tested without a terminal; the line editor only applies them.
public struct Completer {
  /// The `:` commands, with their colon.
  public var commands: [String]
  /// The session's global names (built-ins included).
  public var globals: () -> [String]
  /// A global's current value, for methods after `.`.
  public var lookup: (String) -> Value?
  /// Directory listing for file-name completion; injectable for tests.
  public var listDirectory: (String) -> [(name: String, isDirectory: Bool)]

  public init(
    commands: [String], globals: @escaping () -> [String], lookup: @escaping (String) -> Value?,
    listDirectory: @escaping (String) -> [(name: String, isDirectory: Bool)] = Completer.list
  ) {
    self.commands = commands
    self.globals = globals
    self.lookup = lookup
    self.listDirectory = listDirectory
  }

  /// A completer over an interpreter's session.
  public init(interpreter interp: Interpreter, commands: [String]) {
    self.init(
      commands: commands,
      globals: { interp.main.definedNames },
      lookup: { interp.main.get($0) })
  }

  /// `time` is contextual (a statement keyword, not a reserved word) but a
  /// user typing it expects it offered like the others.
  static let keywords = (Keyword.allCases.map(\.rawValue) + ["time"]).sorted()

  public func complete(_ before: String) -> Completions {
    let scalars = Array(before.unicodeScalars)
    let firstNonBlank = scalars.firstIndex(where: { $0 != " " && $0 != "\t" }) ?? scalars.count
    // Blank so far: Tab indents, which is what it is for inside a block.
    if firstNonBlank == scalars.count {
      return Completions(tokenStart: scalars.count, items: ["    "])
    }
    if scalars[firstNonBlank] == ":" {
      return completeCommandLine(scalars, from: firstNonBlank)
    }
    return completeCode(scalars, from: firstNonBlank)
  }

  private func completeCommandLine(_ s: [Unicode.Scalar], from start: Int) -> Completions {
    guard let space = s[start...].firstIndex(where: { $0 == " " || $0 == "\t" }) else {
      let word = String(String.UnicodeScalarView(s[start...]))
      return Completions(tokenStart: start, items: commands.filter { $0.hasPrefix(word) }.sorted(), suffixIfUnique: " ")
    }
    let command = String(String.UnicodeScalarView(s[start..<space]))
    let argStart = s[space...].firstIndex(where: { $0 != " " && $0 != "\t" }) ?? s.count
    switch command {
    case ":load":
      let quoted = argStart < s.count && (s[argStart] == "\"" || s[argStart] == "'")
      let pathStart = quoted ? argStart + 1 : argStart
      return completePath(s, from: pathStart, closing: quoted ? String(s[argStart]) : "")
    case ":time":
      return argStart < s.count ? completeCode(s, from: argStart) : .none
    default:
      return .none
    }
  }

  private func completeCode(_ s: [Unicode.Scalar], from start: Int) -> Completions {
    if let (quote, open) = openString(s, from: start) {
      // File names only where a file name is expected: `import "...`.
      let head = String(String.UnicodeScalarView(s[start..<open])).trimmingWhitespace()
      if head.hasSuffix("import") { return completePath(s, from: open + 1, closing: String(quote)) }
      return .none
    }
    var tokenStart = s.count
    while tokenStart > start, isIdentifier(s[tokenStart - 1]) { tokenStart -= 1 }
    let word = String(String.UnicodeScalarView(s[tokenStart...]))
    if let first = word.unicodeScalars.first, ("0"..."9").contains(first) { return .none }
    if tokenStart > start, s[tokenStart - 1] == "." {
      return completeMember(s, dot: tokenStart - 1, from: start, word: word)
    }
    var kinds: [String: String] = [:]
    for k in Completer.keywords where k.hasPrefix(word) { kinds[k] = " " }
    for g in globals() where g.hasPrefix(word) && !g.hasPrefix("__") {
      kinds[g] = isCallable(lookup(g)) ? "(" : ""
    }
    let items = kinds.keys.sorted()
    return Completions(tokenStart: tokenStart, items: items, suffixIfUnique: items.count == 1 ? kinds[items[0]] ?? "" : "")
  }

  /// Members of the value named before the dot. Only names are followed
  /// (through modules): evaluating calls or indexes to complete would run
  /// user code, with its side effects, on every Tab.
  private func completeMember(_ s: [Unicode.Scalar], dot: Int, from start: Int, word: String) -> Completions {
    var chainStart = dot
    while chainStart > start, isIdentifier(s[chainStart - 1]) || s[chainStart - 1] == "." { chainStart -= 1 }
    let path = String(String.UnicodeScalarView(s[chainStart..<dot])).split(separator: ".", omittingEmptySubsequences: false)
    guard let head = path.first, !head.isEmpty, var value = lookup(String(head)) else { return .none }
    for name in path.dropFirst() {
      guard case .object(let m as ModuleScope) = value, let next = m.get(String(name)) else { return .none }
      value = next
    }
    let names = Set(Interpreter.methodNames(of: value).filter { $0.hasPrefix(word) }).sorted()
    var suffix = ""
    if names.count == 1 {
      switch value {
      case .list, .str, .map: suffix = "("
      case .object(let m as ModuleScope): suffix = isCallable(m.get(names[0])) ? "(" : ""
      default: suffix = ""  // handle members may be properties (p.pid), not methods
      }
    }
    return Completions(tokenStart: dot + 1, items: names, suffixIfUnique: suffix)
  }

  private func completePath(_ s: [Unicode.Scalar], from pathStart: Int, closing: String) -> Completions {
    guard pathStart <= s.count else { return .none }
    let typed = String(String.UnicodeScalarView(s[pathStart...]))
    var dir = "", prefix = typed
    if let slash = typed.lastIndex(of: "/") {
      dir = String(typed[...slash])
      prefix = String(typed[typed.index(after: slash)...])
    }
    var expanded = dir
    if dir.hasPrefix("~/"), let home = Completer.homeDirectory() { expanded = home + dir.dropFirst(1) }
    let entries = listDirectory(expanded.isEmpty ? "." : expanded)
      .filter { $0.name.hasPrefix(prefix) && (prefix.hasPrefix(".") || !$0.name.hasPrefix(".")) }
      .map { (dir + $0.name + ($0.isDirectory ? "/" : ""), $0.isDirectory) }
      .sorted { $0.0 < $1.0 }
    let suffix = entries.count == 1 && !entries[0].1 ? closing : ""
    return Completions(tokenStart: pathStart, items: entries.map(\.0), suffixIfUnique: suffix)
  }

  /// If the text from `start` ends inside a string literal, its quote and
  /// where it opened. Interpolation holes are not followed: completing names
  /// inside `"{...}"` is not worth a second lexer.
  private func openString(_ s: [Unicode.Scalar], from start: Int) -> (Unicode.Scalar, Int)? {
    var open: (Unicode.Scalar, Int)? = nil
    var i = start
    while i < s.count {
      let c = s[i]
      if let (q, _) = open {
        if c == "\\" { i += 1 } else if c == q { open = nil }
      } else if c == "\"" || c == "'" {
        open = (c, i)
      } else if c == "#" {
        return nil
      }
      i += 1
    }
    return open
  }

  private func isIdentifier(_ c: Unicode.Scalar) -> Bool {
    c == "_" || ("a"..."z").contains(c) || ("A"..."Z").contains(c) || ("0"..."9").contains(c)
  }

  private func isCallable(_ v: Value?) -> Bool {
    switch v {
    case .function?, .builtin?: return true
    default: return false
    }
  }

  static func homeDirectory() -> String? {
    if let h = getenv("HOME"), h.pointee != 0 { return String(cString: h) }
    guard let pw = getpwuid(getuid()), let dir = pw.pointee.pw_dir else { return nil }
    return String(cString: dir)
  }

  /// The entries of a directory, or none if it cannot be read.
  public static func list(_ path: String) -> [(name: String, isDirectory: Bool)] {
    guard let d = opendir(path) else { return [] }
    defer { closedir(d) }
    var out: [(String, Bool)] = []
    while let e = readdir(d) {
      let name = withUnsafeBytes(of: e.pointee.d_name) { raw in
        String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
      }
      if name == "." || name == ".." { continue }
      var isDir = e.pointee.d_type == UInt8(DT_DIR)
      if e.pointee.d_type == UInt8(DT_LNK) || e.pointee.d_type == UInt8(DT_UNKNOWN) {
        var st = stat()
        isDir = stat(path + "/" + name, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
      }
      out.append((name, isDir))
    }
    return out
  }
}
