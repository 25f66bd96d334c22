import Foundation
import XCTest
@testable import MPLanguage

/// The lexical block of grammar.md and the lexer tell the same story about
/// numbers: the NUMBER rule is turned into a regular expression, and every
/// string of a generated corpus must be one number token for the lexer
/// exactly when that expression matches it whole.
final class LexicalRulesTests: XCTestCase {
  struct Missing: Error { let what: String }

  /// Rules of the first ```ebnf block of grammar.md, by name.
  func lexicalRules() throws -> [String: String] {
    let md = try String(contentsOfFile: GrammarTests.root + "/grammar.md", encoding: .utf8)
    guard let open = md.range(of: "```ebnf\n"), let close = md.range(of: "\n```", range: open.upperBound..<md.endIndex) else {
      throw Missing(what: "an ebnf block in grammar.md")
    }
    var text = String(md[open.upperBound..<close.lowerBound])
    while let a = text.range(of: "(*"), let b = text.range(of: "*)", range: a.upperBound..<text.endIndex) {
      text.removeSubrange(a.lowerBound..<b.upperBound)
    }
    var rules: [String: String] = [:]
    let ends = try NSRegularExpression(pattern: ";[ \\t]*\\n")
    text = ends.stringByReplacingMatches(in: text, range: NSRange(text.startIndex..., in: text), withTemplate: "\u{1}")
    for piece in text.components(separatedBy: "\u{1}") {
      guard let eq = piece.range(of: " = ") else { continue }
      let name = piece[..<eq.lowerBound].trimmingCharacters(in: .whitespacesAndNewlines)
      rules[name] = String(piece[eq.upperBound...]).trimmingCharacters(in: CharacterSet(charactersIn: " \n;"))
    }
    return rules
  }

  /// EBNF (quoted terminals, names, `|`, `( )`, `[ ]`, `{ }`) to a regex.
  struct Translator {
    let rules: [String: String]
    static let classes = ["digit": "[0-9]", "hexdigit": "[0-9a-fA-F]", "octdigit": "[0-7]", "bindigit": "[01]"]

    func regex(_ name: String) throws -> String {
      if let c = Translator.classes[name] { return c }
      guard let rhs = rules[name] else { throw Missing(what: "rule '\(name)' in grammar.md") }
      var toks = tokenize(rhs)[...]
      let r = try alternation(&toks)
      XCTAssertTrue(toks.isEmpty, "rule \(name): unread \(Array(toks))")
      return "(?:\(r))"
    }

    func tokenize(_ s: String) -> [String] {
      var out: [String] = []
      var chars = Array(s)[...]
      while let c = chars.first {
        if c == " " || c == "\n" { chars.removeFirst(); continue }
        if c == "\"" || c == "'" {
          chars.removeFirst()
          var lit = ""
          while let d = chars.first, d != c { lit.append(chars.removeFirst()) }
          chars.removeFirst()
          out.append("\"" + lit)
        } else if "|()[]{}".contains(c) {
          out.append(String(chars.removeFirst()))
        } else {
          var w = ""
          while let d = chars.first, d.isLetter || d.isNumber || d == "_" { w.append(chars.removeFirst()) }
          out.append(w)
        }
      }
      return out
    }

    func alternation(_ t: inout ArraySlice<String>) throws -> String {
      var alts = [try sequence(&t)]
      while t.first == "|" {
        t.removeFirst()
        alts.append(try sequence(&t))
      }
      return alts.joined(separator: "|")
    }

    func sequence(_ t: inout ArraySlice<String>) throws -> String {
      var out = ""
      while let x = t.first, x != "|", x != ")", x != "]", x != "}" {
        t.removeFirst()
        switch x {
        case "(": out += "(?:\(try alternation(&t)))"; t.removeFirst()
        case "[": out += "(?:\(try alternation(&t)))?"; t.removeFirst()
        case "{": out += "(?:\(try alternation(&t)))*"; t.removeFirst()
        default:
          if x.hasPrefix("\"") {
            out += NSRegularExpression.escapedPattern(for: String(x.dropFirst()))
          } else {
            out += try regex(x)
          }
        }
      }
      return out
    }
  }

  /// True when the lexer reads `s` as exactly one number token.
  func lexesAsOneNumber(_ s: String) -> Bool {
    guard let toks = try? Lexer.tokenize(s, file: "n"), toks.count == 2 else { return false }
    switch toks[0].kind {
    case .int, .float: return true
    default: return false
    }
  }

  func testTheLexerReadsANumberExactlyWhenGrammarMdsNumberRuleMatches() throws {
    let pattern = try Translator(rules: try lexicalRules()).regex("NUMBER")
    let re = try NSRegularExpression(pattern: "^\(pattern)$")
    func matches(_ s: String) -> Bool {
      re.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) != nil
    }
    let prefixes = ["", "0", "1", "0x", "0X", "0o", "0O", "0b", "0B", "."]
    let pieces = ["0", "1", "7", "8", "f", "F", "_", "e", "E", "+", "-", "."]
    var corpus: [String] = []
    var tails = [""]
    for _ in 0..<3 {
      tails = tails + tails.flatMap { t in pieces.map { t + $0 } }
    }
    for p in prefixes { for t in Set(tails) { corpus.append(p + t) } }
    var disagreements: [String] = []
    var numbers = 0
    for s in Set(corpus) where !s.isEmpty {
      let lexer = lexesAsOneNumber(s), grammar = matches(s)
      if lexer { numbers += 1 }
      if lexer != grammar { disagreements.append("\(s): lexer \(lexer), grammar.md \(grammar)") }
    }
    XCTAssertGreaterThan(numbers, 500, "the corpus holds too few numbers to mean anything")
    XCTAssertEqual(disagreements.sorted(), [], "the lexer and grammar.md's NUMBER disagree")
  }

  func testPrefixedIntegersInEitherCaseWithSeparators() throws {
    for (text, value) in [("0X1F", 31), ("0x_1f", 31), ("0b1010", 10), ("0B_1_0", 2), ("0o17", 15), ("0O_7", 7)] {
      let toks = try Lexer.tokenize(text, file: "n")
      XCTAssertEqual(toks.first?.kind, .int(value), text)
    }
  }

  func testTheSmallestIntIsALiteral() {
    let out = LanguageTestSupport.run("print(-9223372036854775808, - 9223372036854775808 == -9223372036854775807 - 1)")
    XCTAssertNil(out.error, out.error?.message ?? "")
    XCTAssertEqual(out.lines, ["-9223372036854775808 true"])
    XCTAssertNotNil(LanguageTestSupport.run("print(9223372036854775808)").error)
    XCTAssertNotNil(LanguageTestSupport.run("print(-(9223372036854775808))").error)
  }

  func testAByteOrderMarkAtTheStartIsIgnored() {
    let out = LanguageTestSupport.run("\u{FEFF}let x = 1\nprint(x)")
    XCTAssertNil(out.error, out.error?.message ?? "")
    XCTAssertEqual(out.lines, ["1"])
  }

  func testInvalidUTF8IsALocatedSyntaxError() throws {
    // Bytes as a file holds them, decoded as every source is (with replacement).
    let bytes: [UInt8] = Array("let s = 1\nprint(\"a".utf8) + [0xFF] + Array("b\")\n".utf8)
    let text = String(decoding: bytes, as: UTF8.self)
    XCTAssertThrowsError(try Parser.parse(text, file: "bad.mp")) { error in
      guard let e = error as? MPError else { return XCTFail("\(error)") }
      XCTAssertEqual(e.kind, .syntax)
      XCTAssertEqual(e.loc?.line, 2)
      XCTAssertEqual(e.loc?.column, 9)
      XCTAssertTrue(e.message.contains("invalid UTF-8"), e.message)
    }
  }
}
