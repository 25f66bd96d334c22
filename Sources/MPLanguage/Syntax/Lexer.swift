/// Turns source text into tokens.
///
/// Newlines are statement separators, so the lexer emits them, except right
/// after a token that cannot end an expression (a binary operator, a comma,
/// an opening bracket): there a line break only continues the expression.
/// Newlines inside brackets are dropped later by the parser, which knows
/// whether a `{` opens a block or a map.
public struct Lexer {
  private let src: [Unicode.Scalar]
  private let file: String
  private var pos = 0
  private var line = 1
  private var col = 1
  private var tokens: [Token] = []
  /// Comments seen so far (for `mp test`, which reads expectations from them).
  private var comments: [Comment] = []

  public init(_ text: String, file: String, line: Int = 1, column: Int = 1) {
    self.src = Array(Lexer.withoutByteOrderMark(text).unicodeScalars)
    self.file = file
    self.line = line
    self.col = column
  }

  /// Lexes the whole input, ending with an `.eof` token.
  public static func tokenize(_ text: String, file: String, line: Int = 1, column: Int = 1) throws -> [Token] {
    var lx = Lexer(text, file: file, line: line, column: column)
    return try lx.run()
  }

  /// A `#` comment: its text after the `#`, its line, and whether nothing
  /// but blanks precedes it on that line.
  public struct Comment: Equatable, Sendable {
    public var text: String
    public var line: Int
    public var isOwnLine: Bool
  }

  /// Every real comment of a source text (a `#` inside a string is not one).
  /// Never fails: after a lexical error it goes on from the next line, so a
  /// script that is meant to fail still shows its comments.
  public static func comments(in text: String, file: String = "") -> [Comment] {
    var out: [Comment] = []
    var lines = text.split(separator: "\n", omittingEmptySubsequences: false)[...]
    var firstLine = 1
    while !lines.isEmpty {
      var lx = Lexer(lines.joined(separator: "\n"), file: file, line: firstLine)
      do {
        _ = try lx.run()
        out += lx.comments
        break
      } catch let e as MPError {
        // Keep what came before the bad line, then lex again after it.
        let bad = max(e.loc?.line ?? firstLine, firstLine)
        out += lx.comments.filter { $0.line < bad }
        lines = lines.dropFirst(bad - firstLine + 1)
        firstLine = bad + 1
      } catch {
        break
      }
    }
    return out
  }

  /// A UTF-8 byte order mark at the start of a file is not part of the
  /// program (editors on Windows write one).
  public static func withoutByteOrderMark(_ text: String) -> String {
    guard text.unicodeScalars.first == "\u{FEFF}" else { return text }
    return String(text.unicodeScalars.dropFirst())
  }

  /// Source bytes that are not UTF-8 reach the lexer as U+FFFD (text is
  /// decoded with replacement); the lexer refuses that character wherever
  /// it appears, at its place (grammar.md, "Decisions").
  private func checkDecodable(_ c: Unicode.Scalar) throws {
    if c == "\u{FFFD}" {
      throw MPError.syntax(
        "invalid UTF-8 in the source (mp reads source files as UTF-8; U+FFFD, the replacement character, is refused too)",
        at: here)
    }
  }

  private var here: SourceLocation { SourceLocation(file: file, line: line, column: col) }

  private func peek(_ k: Int = 0) -> Unicode.Scalar? {
    let i = pos + k
    return i < src.count ? src[i] : nil
  }

  private mutating func advance() -> Unicode.Scalar {
    let c = src[pos]
    pos += 1
    if c == "\n" {
      line += 1
      col = 1
    } else {
      col += 1
    }
    return c
  }

  /// Tokens after which a newline continues the expression instead of ending the statement.
  private static let continuers: Set<String> = [
    "+", "-", "*", "/", "//", "%", "==", "!=", "<", "<=", ">", ">=", "=", "+=", "-=", "*=",
    "/=", "//=", "%=", ",", "(", "[", "=>", ".", "&", "|", "^", "~", "<<", ">>", "&=", "|=", "^=",
    "<<=", ">>=",
  ]

  private var lastContinues: Bool {
    guard let last = tokens.last else { return true }
    switch last.kind {
    case .op(let o): return Lexer.continuers.contains(o)
    case .keyword(let k): return k == .and || k == .or || k == .not || k == .in
    case .newline: return true
    default: return false
    }
  }

  private var lastEndsOperand: Bool {
    guard let last = tokens.last else { return false }
    switch last.kind {
    case .int, .float, .string, .ident: return true
    case .op(let o): return o == ")" || o == "]" || o == "}"
    case .keyword(let k): return k == .true || k == .false || k == .nil
    default: return false
    }
  }

  mutating func run() throws -> [Token] {
    while let c = peek() {
      let start = here
      switch c {
      case " ", "\t", "\r":
        _ = advance()
      case "\n":
        _ = advance()
        if !lastContinues { tokens.append(Token(.newline, start)) }
      case "#":
        let onlyThing = tokens.last.map { $0.loc.line != line || $0.kind == .newline } ?? true
        var text = ""
        _ = advance()
        while let d = peek(), d != "\n" {
          try checkDecodable(d)
          text.unicodeScalars.append(advance())
        }
        comments.append(Comment(text: text, line: start.line, isOwnLine: onlyThing))
      case "\"", "'":
        tokens.append(Token(.string(try lexString()), start))
      case "0"..."9":
        tokens.append(Token(try lexNumber(), start))
      case "." where !lastEndsOperand && (peek(1).map(isDigit) ?? false):
        tokens.append(Token(try lexNumber(), start))
      default:
        if isIdentStart(c) {
          var name = ""
          while let d = peek(), isIdentStart(d) || isDigit(d) { name.unicodeScalars.append(advance()) }
          if let k = Keyword(rawValue: name) {
            tokens.append(Token(.keyword(k), start))
          } else {
            tokens.append(Token(.ident(name), start))
          }
        } else {
          try checkDecodable(c)
          tokens.append(Token(.op(try lexOperator()), start))
        }
      }
    }
    tokens.append(Token(.eof, here))
    return tokens
  }

  private func isDigit(_ c: Unicode.Scalar) -> Bool { c >= "0" && c <= "9" }
  private static let prefixes: [Unicode.Scalar: Int] = ["x": 16, "X": 16, "o": 8, "O": 8, "b": 2, "B": 2]
  private func digitValue(_ c: Unicode.Scalar) -> Int? {
    switch c {
    case "0"..."9": return Int(c.value - 48)
    case "a"..."f": return Int(c.value - 97 + 10)
    case "A"..."F": return Int(c.value - 65 + 10)
    default: return nil
    }
  }
  private func isHex(_ c: Unicode.Scalar) -> Bool {
    isDigit(c) || (c >= "a" && c <= "f") || (c >= "A" && c <= "F")
  }
  private func isIdentStart(_ c: Unicode.Scalar) -> Bool {
    (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || c == "_" || (c.value >= 0x80 && c.properties.isAlphabetic)
  }

  private static let threeCharOps: Set<String> = ["//=", "<<=", ">>="]
  private static let twoCharOps: Set<String> = [
    "==", "!=", "<=", ">=", "=>", "+=", "-=", "*=", "/=", "%=", "//", "<<", ">>", "&=", "|=", "^=",
  ]
  private static let oneCharOps: Set<Unicode.Scalar> = [
    "+", "-", "*", "/", "%", "<", ">", "=", "(", ")", "[", "]", "{", "}", ",", ".", ":", ";", "&", "|",
    "^", "~",
  ]

  private mutating func lexOperator() throws -> String {
    let start = here
    func text(_ n: Int) -> String? {
      guard pos + n <= src.count else { return nil }
      var s = ""
      for i in 0..<n { s.unicodeScalars.append(src[pos + i]) }
      return s
    }
    if let t = text(3), Lexer.threeCharOps.contains(t) {
      for _ in 0..<3 { _ = advance() }
      return t
    }
    if let t = text(2), t == "&&" || t == "||" {
      throw MPError.syntax("unexpected '\(t)' (use '\(t == "&&" ? "and" : "or")'; '\(t.first!)' alone is bitwise)", at: start)
    }
    if let t = text(2), Lexer.twoCharOps.contains(t) {
      for _ in 0..<2 { _ = advance() }
      return t
    }
    let c = advance()
    if Lexer.oneCharOps.contains(c) { return String(c) }
    if c == "!" {
      throw MPError.syntax("unexpected character '!' (use 'not' for negation, '!=' for inequality)", at: start)
    }
    let shown = c.value < 0x20 || c.value == 0x7f ? "\\u{\(String(c.value, radix: 16))}" : String(c)
    throw MPError.syntax("unexpected character '\(shown)'", at: start)
  }

  /// INT in grammar.md: `0x`, `0o` and `0b` prefixes (either case), an
  /// underscore allowed before each digit, as in Python.
  private mutating func lexNumber() throws -> TokenKind {
    let start = here
    if peek() == "0", let x = peek(1), let radix = Lexer.prefixes[x] {
      _ = advance(); _ = advance()
      let shown = "0\(x)"
      let kind = radix == 16 ? "hex" : radix == 8 ? "octal" : "binary"
      var digits = ""
      while true {
        let underscore = peek() == "_"
        guard let d = peek(underscore ? 1 : 0), let v = digitValue(d), v < radix else {
          if underscore { throw MPError.syntax("'_' in a number must be followed by a digit", at: here) }
          break
        }
        if underscore { _ = advance() }
        digits.unicodeScalars.append(advance())
      }
      guard !digits.isEmpty else { throw MPError.syntax("expected \(kind) digits after '\(shown)'", at: start) }
      if let c = peek(), isIdentStart(c) || isDigit(c) {
        throw MPError.syntax("unexpected '\(c)' in \(kind) number '\(shown)\(digits)'", at: here)
      }
      guard let v = Int(digits, radix: radix) else {
        throw MPError.syntax("integer literal '\(shown)\(digits)' does not fit in 64 bits", at: start)
      }
      return .int(v)
    }
    var text = ""
    var isFloat = false
    func digits(_ lx: inout Lexer) {
      while let d = lx.peek(), lx.isDigit(d) || (d == "_" && (lx.peek(1).map(lx.isDigit) ?? false)) {
        let c = lx.advance()
        if c != "_" { text.unicodeScalars.append(c) }
      }
    }
    digits(&self)
    if peek() == ".", let n = peek(1), isDigit(n) {
      isFloat = true
      text.unicodeScalars.append(advance())
      digits(&self)
    }
    if let e = peek(), e == "e" || e == "E" {
      let sign = peek(1)
      let hasSign = sign == "+" || sign == "-"
      if let d = peek(hasSign ? 2 : 1), isDigit(d) {
        isFloat = true
        text.unicodeScalars.append(advance())
        if hasSign { text.unicodeScalars.append(advance()) }
        digits(&self)
      }
    }
    if let c = peek(), isIdentStart(c) {
      throw MPError.syntax("unexpected '\(c)' after number '\(text)'", at: here)
    }
    if text.hasPrefix(".") { text = "0" + text }
    if isFloat {
      guard let v = Double(text) else { throw MPError.syntax("malformed number '\(text)'", at: start) }
      return .float(v)
    }
    guard let v = Int(text) else {
      // -9223372036854775808 is a literal: the parser joins the '-' to it.
      if text == "9223372036854775808", tokens.last?.isOp("-") == true { return .minIntMagnitude }
      throw MPError.syntax("integer literal '\(text)' does not fit in 64 bits", at: start)
    }
    return .int(v)
  }

  private mutating func lexString() throws -> [StringPart] {
    let start = here
    let quote = advance()
    var parts: [StringPart] = []
    var buf = ""
    while true {
      guard let c = peek() else {
        throw MPError.syntax("unterminated string (it starts here)", at: start, incomplete: true)
      }
      if c == quote {
        _ = advance()
        break
      }
      if c == "\\" {
        let escLoc = here
        _ = advance()
        guard let e = peek() else {
          throw MPError.syntax("unterminated string (it starts here)", at: start, incomplete: true)
        }
        _ = advance()
        switch e {
        case "n": buf += "\n"
        case "t": buf += "\t"
        case "r": buf += "\r"
        case "0": buf += "\0"
        case "\\", "\"", "'", "{", "}": buf.unicodeScalars.append(e)
        case "\n": break  // a backslash at the end of a line joins the lines
        default:
          throw MPError.syntax("unknown escape '\\\(e)' in string (known: \\n \\t \\r \\\\ \\\" \\' \\{ \\})", at: escLoc)
        }
        continue
      }
      if c == "{" {
        _ = advance()
        let holeLoc = here
        if !buf.isEmpty {
          parts.append(.text(buf))
          buf = ""
        }
        parts.append(try lexHole(holeLoc, stringStart: start))
        continue
      }
      if c == "}" {
        throw MPError.syntax("single '}' in string (write '\\}' for a literal brace)", at: here)
      }
      try checkDecodable(c)
      buf.unicodeScalars.append(advance())
    }
    if !buf.isEmpty || parts.isEmpty { parts.append(.text(buf)) }
    return parts
  }

  /// Reads `expr` or `expr:spec` up to the matching `}`; nested brackets and
  /// strings are skipped so `{m["k"]}` and `{f({1: 2})}` work.
  private mutating func lexHole(_ holeLoc: SourceLocation, stringStart: SourceLocation) throws -> StringPart {
    var depth = 0
    var expr = ""
    var spec: String? = nil
    while true {
      guard let c = peek() else {
        throw MPError.syntax("unterminated '{' in string", at: holeLoc, incomplete: true)
      }
      if spec != nil {
        if c == "}" { _ = advance(); break }
        if c == "\n" || c == "\"" || c == "'" {
          throw MPError.syntax("expected '}' to close the format spec, found \(c == "\n" ? "end of line" : "'\(c)'")", at: here)
        }
        spec!.unicodeScalars.append(advance())
        continue
      }
      switch c {
      case "}" where depth == 0:
        _ = advance()
        if expr.allSatisfy({ $0 == " " }) {
          throw MPError.syntax("empty expression in string interpolation", at: holeLoc)
        }
        return .hole(source: expr, at: holeLoc, spec: nil)
      case ":" where depth == 0:
        _ = advance()
        spec = ""
      case "(", "[", "{":
        depth += 1
        expr.unicodeScalars.append(advance())
      case ")", "]", "}":
        depth -= 1
        expr.unicodeScalars.append(advance())
      case "\"", "'":
        let q = advance()
        expr.unicodeScalars.append(q)
        while let d = peek(), d != q {
          if d == "\\" {
            expr.unicodeScalars.append(advance())
            if peek() == nil { break }
          }
          expr.unicodeScalars.append(advance())
        }
        guard peek() != nil else {
          let brace = SourceLocation(file: holeLoc.file, line: holeLoc.line, column: max(1, holeLoc.column - 1))
          throw MPError.syntax("'{' in a string is not closed by '}' (write '\\{' for a literal brace)", at: brace, incomplete: true)
        }
        expr.unicodeScalars.append(advance())
      default:
        expr.unicodeScalars.append(advance())
      }
    }
    if expr.allSatisfy({ $0 == " " }) {
      throw MPError.syntax("empty expression in string interpolation", at: holeLoc)
    }
    return .hole(source: expr, at: holeLoc, spec: spec)
  }
}
