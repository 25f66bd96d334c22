import XCTest
@testable import MPLanguage

/// Keeps grammar.md honest: its EBNF must match the rule comments in the
/// parser, and every example in it must parse.
final class GrammarTests: XCTestCase {
  static let root: String = {
    var url = URL(fileURLWithPath: #filePath)
    while url.path != "/" {
      url.deleteLastPathComponent()
      if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url.path }
    }
    return "."
  }()

  func read(_ rel: String) throws -> String {
    try String(contentsOfFile: GrammarTests.root + "/" + rel, encoding: .utf8)
  }

  /// Fenced blocks of a given language in a markdown text.
  func blocks(_ md: String, lang: String) -> [String] {
    var out: [String] = []
    var cur: [Substring]? = nil
    for line in md.split(separator: "\n", omittingEmptySubsequences: false) {
      if cur == nil, line.hasPrefix("```" + lang) {
        cur = []
      } else if cur != nil, line.hasPrefix("```") {
        out.append(cur!.joined(separator: "\n"))
        cur = nil
      } else if cur != nil {
        cur!.append(line)
      }
    }
    return out
  }

  func normalize(_ s: String) -> String {
    var t = s
    while let a = t.range(of: "(*"), let b = t.range(of: "*)", range: a.upperBound..<t.endIndex) {
      t.removeSubrange(a.lowerBound..<b.upperBound)
    }
    return t.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }).joined(separator: " ")
  }

  /// `name = rhs` pairs from text where rules end with ';'.
  func rules(_ text: String) -> [String: String] {
    var out: [String: String] = [:]
    for piece in text.components(separatedBy: " ;") {
      let p = normalize(piece)
      guard let eq = p.range(of: " = ") else { continue }
      let name = String(p[..<eq.lowerBound]).trimmingCharacters(in: .whitespaces)
      guard name.range(of: "^[A-Za-z]+$", options: .regularExpression) != nil else { continue }
      out[name] = String(p[eq.upperBound...]).trimmingCharacters(in: .whitespaces)
    }
    return out
  }

  /// Rule comments in the parser: `/// name = ...` plus continuation lines.
  func parserRules() throws -> [String: String] {
    var text = ""
    for file in ["Sources/MPLanguage/Syntax/Parser.swift", "Sources/MPLanguage/Syntax/ParserExpressions.swift"] {
      var inRule = false
      for line in try read(file).split(separator: "\n") {
        let t = line.trimmingCharacters(in: .whitespaces)
        guard t.hasPrefix("///") else {
          if inRule { text += " ;\n" }
          inRule = false
          continue
        }
        let body = t.dropFirst(3)
        if body.range(of: "^ [A-Za-z]+ = ", options: .regularExpression) != nil {
          if inRule { text += " ;\n" }
          text += body
          inRule = true
        } else if inRule, body.hasPrefix("   ") {
          text += " " + body
        } else {
          if inRule { text += " ;\n" }
          inRule = false
        }
      }
      if inRule { text += " ;\n" }
    }
    return rules(text)
  }

  func testEveryParserRuleIsInGrammarMdWithTheSameDefinition() throws {
    let md = try read("grammar.md")
    let grammar = rules(blocks(md, lang: "ebnf").joined(separator: "\n"))
    let parser = try parserRules()
    XCTAssertGreaterThan(parser.count, 25, "the parser's rule comments were not found")
    for (name, rhs) in parser {
      XCTAssertEqual(grammar[name], rhs, "rule '\(name)' differs between the parser and grammar.md")
    }
  }

  func testEverySyntaxRuleOfGrammarMdIsImplementedByAParserMethod() throws {
    let md = try read("grammar.md")
    let ebnf = blocks(md, lang: "ebnf")
    XCTAssertGreaterThanOrEqual(ebnf.count, 3)
    // The first block is lexical (the lexer implements it); the others are syntax.
    let syntax = rules(ebnf.dropFirst().joined(separator: "\n"))
    let parser = try parserRules()
    for name in syntax.keys {
      XCTAssertNotNil(parser[name], "grammar.md defines '\(name)' but no parser method carries that rule")
    }
  }

  func testEveryExampleInGrammarMdParses() throws {
    let examples = blocks(try read("grammar.md"), lang: "mp")
    XCTAssertGreaterThan(examples.count, 8)
    for (i, ex) in examples.enumerated() {
      XCTAssertNoThrow(try Parser.parse(ex, file: "grammar.md example \(i + 1)"), "example \(i + 1):\n\(ex)")
    }
  }

  func testEveryExampleInGrammarMdAlsoRuns() throws {
    let examples = blocks(try read("grammar.md"), lang: "mp")
    var ran = 0
    for ex in examples {
      let interp = Interpreter(mainFile: "grammar.md")
      interp.main.set("print", .builtin(Builtin("print", 0, -1, "") { _, _ in .nil }))
      do {
        try interp.runEntry(ex, file: "grammar.md")
        ran += 1
      } catch let e as MPError {
        XCTFail("example failed to run:\n\(ex)\n\(e.render())")
      }
    }
    XCTAssertGreaterThan(ran, 3)
  }
}
