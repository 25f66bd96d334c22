import XCTest
@testable import MPLanguage
@testable import MPRuntime

/// docs/reference.md is the manual: every built-in the interpreter
/// registers, every member a type offers and every error kind the code
/// raises must have an entry there, written as the manual's introduction
/// says (`` `len(` ``, `` `queue.put` ``, `` `"timeout"` ``). Adding one
/// without documenting it fails here.
final class ReferenceManualTests: XCTestCase {
  static let root = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

  func manual() throws -> String {
    try String(contentsOf: Self.root.appendingPathComponent("docs/reference.md"), encoding: .utf8)
  }

  /// Every Swift file under Sources/, with its path relative to the root.
  func sources() throws -> [(path: String, text: String)] {
    let base = Self.root.appendingPathComponent("Sources")
    guard let walk = FileManager.default.enumerator(at: base, includingPropertiesForKeys: nil) else {
      throw XCTSkip("cannot list Sources/")
    }
    var out: [(String, String)] = []
    for case let url as URL in walk where url.pathExtension == "swift" {
      let rel = String(url.path.dropFirst(Self.root.path.count + 1))
      out.append((rel, try String(contentsOf: url, encoding: .utf8)))
    }
    XCTAssertGreaterThan(out.count, 20, "the scan of Sources/ found too few files to mean anything")
    return out
  }

  func testEveryRegisteredBuiltinHasAnEntry() throws {
    // The runtime registers its built-ins (processes, locks, queues, pools
    // and whatever is added beside them) when it is installed, the language
    // its own when the first interpreter is made: the same tables `mp` uses.
    try Runtime.install(arenaSize: 1 << 26)
    Interpreter.registerCoreBuiltins()
    var found = Set(Interpreter.builtins.keys)
    XCTAssertTrue(found.contains("spawn") && found.contains("print"), "the registration tables look empty: \(found.sorted())")
    // Built-ins registered only on request (MP_DEBUG=1) or by another
    // front end are not in this process's table: read them from the sources.
    for (_, source) in try sources() {
      found.formUnion(Self.allMatches(#"(?:Builtin\(\s*|\breg[A-Za-z0-9]*\(\s*)"([a-z_][a-z_0-9]*)""#, in: source))
    }
    let names = found.sorted()
    let text = try manual()
    let missing = names.filter { !text.contains("`\($0)(") }
    XCTAssertEqual(missing, [], "built-ins without an entry in docs/reference.md; write each as `name(params)` → result, with the errors it raises")
  }

  func testEveryMethodOfListsStringsAndMapsHasAnEntry() throws {
    let text = try manual()
    let values: [(String, Value)] = [("list", .list(ListRef([]))), ("string", .str("")), ("map", .map(MapRef()))]
    for (type, v) in values {
      let names = Interpreter.methodNames(of: v)
      XCTAssertFalse(names.isEmpty, "no methods found for \(type)")
      let missing = names.filter { !Self.hasMemberEntry(text, type, $0) }
      XCTAssertEqual(missing, [], "\(type) methods without an entry in docs/reference.md; write each as `\(type).name(params)`")
    }
  }

  /// Handles list their members in `memberNames`; the types are found in
  /// the sources, so a new handle type is checked without touching this test.
  func testEveryMemberOfEveryHandleTypeHasAnEntry() throws {
    let text = try manual()
    var types: Set<String> = []
    for (path, source) in try sources() {
      for segment in Self.classSegments(source) where segment.contains("override var memberNames") {
        guard let type = Self.firstMatch(#"override var typeName: String \{\s*"([a-z_]+)"\s*\}"#, in: segment) else {
          XCTFail("\(path): a class lists memberNames but its typeName is not a plain string literal; the manual check cannot tell which type it is")
          continue
        }
        // A module's members are the globals of its file, not a fixed list.
        if type == "module" { continue }
        guard let body = Self.body(after: "override var memberNames", in: segment) else {
          XCTFail("\(path): cannot read the body of \(type)'s memberNames")
          continue
        }
        let names = Self.allMatches(#""([A-Za-z_][A-Za-z0-9_]*)""#, in: body)
        if names.isEmpty {
          XCTFail("\(path): \(type)'s memberNames has no string literals; list the names literally so the manual check can read them")
        }
        types.insert(type)
        let missing = names.filter { !Self.hasMemberEntry(text, type, $0) }
        XCTAssertEqual(missing, [], "\(path): \(type) members without an entry in docs/reference.md; write each as `\(type).name(params)` or `\(type).name`")
      }
    }
    for expected in ["process", "lock", "semaphore", "shared", "queue", "pool"] {
      XCTAssertTrue(types.contains(expected), "the source scan did not find the \(expected) handle; found \(types.sorted())")
    }
    let unlisted = types.sorted().filter { !text.contains("`\"\($0)\"`") }
    XCTAssertEqual(unlisted, [], "types without a row in the table of docs/reference.md, \"Values\" (write the name as type() returns it, quoted)")
  }

  func testEveryErrorKindHasAnEntry() throws {
    let text = try manual()
    let kinds = MPError.Kind.allCases.map(\.rawValue)
    let missing = kinds.filter { !text.contains("`\"\($0)\"`") }
    XCTAssertEqual(missing, [], "error kinds (MPError.Kind) without a row in the Errors table of docs/reference.md")
  }

  /// Parameters may be given by keyword, so the manual's signature must use
  /// the names the interpreter knows: `put(q, item[, timeout])`, not `put(q, v)`.
  func testEverySignatureUsesTheParameterNamesKeywordsTake() throws {
    try Runtime.install(arenaSize: 1 << 26)
    Interpreter.registerCoreBuiltins()
    let text = try manual()
    var wrong: [String] = []
    for (name, b) in Interpreter.builtins.sorted(by: { $0.key < $1.key }) where !(b.params + b.keywordOnly).isEmpty {
      if !Self.someSignature(of: name, in: text, names: b.params + b.keywordOnly) {
        wrong.append("\(name)(\((b.params + b.keywordOnly).joined(separator: ", ")))")
      }
    }
    for (type, methods) in Interpreter.methodParameters.sorted(by: { $0.key < $1.key }) {
      for (method, params) in methods.sorted(by: { $0.key < $1.key }) where !params.isEmpty {
        if !Self.someSignature(of: "\(type).\(method)", in: text, names: params) {
          wrong.append("\(type).\(method)(\(params.joined(separator: ", ")))")
        }
      }
    }
    XCTAssertEqual(wrong, [], "entries of docs/reference.md whose signature does not name every parameter a keyword can give (one `name(...)` code span must contain them all)")
  }

  /// Whether some code span starting `` `callee( `` names every one of `names`.
  static func someSignature(of callee: String, in text: String, names: [String]) -> Bool {
    let spans = allMatches("`(" + NSRegularExpression.escapedPattern(for: callee) + #"\([^`]*)`"#, in: text)
    return spans.contains { span in
      names.allSatisfy { firstMatch("(?<![A-Za-z0-9_])(" + $0 + ")(?![A-Za-z0-9_])", in: span) != nil }
    }
  }

  /// Every `MP_...` environment variable mp reads is described.
  func testEveryEnvironmentVariableHasAnEntry() throws {
    let text = try manual()
    var vars: Set<String> = []
    for (_, source) in try sources() { vars.formUnion(Self.allMatches(#""(MP_[A-Z0-9_]+)""#, in: source)) }
    XCTAssertTrue(vars.contains("MP_MAX_PROCS"), "the source scan found no MP_ variables: \(vars.sorted())")
    let missing = vars.sorted().filter { !text.contains("`\($0)`") }
    XCTAssertEqual(missing, [], "environment variables mp reads without an entry in docs/reference.md")
  }

  /// The contents line at the top links every section, so a section added
  /// at the end is found from the start.
  func testContentsLinksEverySection() throws {
    let text = try manual()
    guard let start = text.range(of: "Contents:") else { return XCTFail("docs/reference.md has no Contents line") }
    // The Contents paragraph: up to the first blank line.
    let contents = String(text[start.lowerBound...]).components(separatedBy: "\n\n").first ?? ""
    let headings = Self.allMatches(#"(?m)^## (.+)$"#, in: text)
    XCTAssertGreaterThan(headings.count, 10, "no sections found in docs/reference.md")
    let missing = headings.filter { h in
      // GitHub's anchors: lower case, punctuation dropped, spaces to hyphens.
      let slug = String(h.lowercased().compactMap { c -> Character? in
        c == " " ? "-" : (c.isLetter || c.isNumber || c == "-" || c == "_") ? c : nil
      })
      return !contents.contains("(#\(slug))")
    }
    XCTAssertEqual(missing, [], "sections of docs/reference.md missing from its Contents line")
  }

  // MARK: reading the manual and the sources

  /// `` `queue.put(`` or `` `queue.closed` ``: the type's name as receiver,
  /// the member's name whole (`queue.put` is not `queue.putx`).
  static func hasMemberEntry(_ text: String, _ type: String, _ name: String) -> Bool {
    let pattern = "`" + NSRegularExpression.escapedPattern(for: "\(type).\(name)") + "(?![A-Za-z0-9_])"
    return firstMatch("(" + pattern + ")", in: text) != nil
  }

  /// The text of each class declaration up to the next one.
  static func classSegments(_ source: String) -> [String] {
    let starts = ranges(#"(?m)^\s*(?:(?:public|open|final|internal|private|fileprivate)\s+)*class\s+\w+"#, in: source)
    return starts.indices.map { i in
      let end = i + 1 < starts.count ? starts[i + 1].lowerBound : source.endIndex
      return String(source[starts[i].lowerBound..<end])
    }
  }

  /// From `marker` to the brace that closes the first brace after it.
  static func body(after marker: String, in text: String) -> String? {
    guard let m = text.range(of: marker), let open = text[m.upperBound...].firstIndex(of: "{") else { return nil }
    var depth = 0
    var i = open
    while i < text.endIndex {
      if text[i] == "{" { depth += 1 }
      if text[i] == "}" {
        depth -= 1
        if depth == 0 { return String(text[open...i]) }
      }
      i = text.index(after: i)
    }
    return nil
  }

  static func ranges(_ pattern: String, in text: String) -> [Range<String.Index>] {
    guard let re = try? NSRegularExpression(pattern: pattern) else { return [] }
    return re.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap { Range($0.range, in: text) }
  }

  static func allMatches(_ pattern: String, in text: String) -> [String] {
    guard let re = try? NSRegularExpression(pattern: pattern) else { return [] }
    return re.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap {
      Range($0.range(at: 1), in: text).map { String(text[$0]) }
    }
  }

  static func firstMatch(_ pattern: String, in text: String) -> String? { allMatches(pattern, in: text).first }
}

/// The repository stands alone: its code, tests, fixtures and documents
/// cite docs/reference.md or grammar.md, never a contract kept elsewhere.
final class CitationTests: XCTestCase {
  func testNothingCitesTheOutsideContract() throws {
    let root = ReferenceManualTests.root
    // Built in two pieces so this file does not find itself.
    let needles = ["SPEC" + " §", "SPEC" + ".md", "SPEC" + " section"]
    var offenders: [String] = []
    for top in ["Sources", "Tests", "tests", "examples", "exercises", "bench", "docs", "grammar.md", "README.md"] {
      let url = root.appendingPathComponent(top)
      var files: [URL] = [url]
      if let walk = FileManager.default.enumerator(at: url, includingPropertiesForKeys: nil) {
        files = walk.compactMap { $0 as? URL }
      }
      for file in files {
        guard let text = try? String(contentsOf: file, encoding: .utf8) else { continue }
        for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
        where needles.contains(where: { line.contains($0) }) {
          offenders.append("\(file.path.dropFirst(root.path.count + 1)):\(i + 1): \(line.trimmingCharacters(in: .whitespaces))")
        }
      }
    }
    XCTAssertEqual(offenders, [], "cite docs/reference.md (by section name) or grammar.md instead")
  }
}

/// README.md's Layout section names every target of Package.swift, so a
/// reader finds each folder's purpose there.
final class ReadmeLayoutTests: XCTestCase {
  func testLayoutNamesEveryTarget() throws {
    let root = ReferenceManualTests.root
    let package = try String(contentsOf: root.appendingPathComponent("Package.swift"), encoding: .utf8)
    let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
    let targets = ReferenceManualTests.allMatches(
      #"\.(?:target|testTarget|executableTarget|systemLibrary)\(\s*name:\s*"([A-Za-z0-9_]+)""#, in: package)
    XCTAssertTrue(targets.contains("MPRuntime") && targets.contains("mp"), "no targets read from Package.swift: \(targets)")
    guard let start = readme.range(of: "## Layout") else { return XCTFail("README.md has no Layout section") }
    var layout = readme[start.upperBound...]
    if let next = layout.range(of: "\n## ") { layout = layout[..<next.lowerBound] }
    let missing = targets.filter { t in !["`\(t)`", "`Sources/\(t)`", "`Tests/\(t)`"].contains { layout.contains($0) } }
    XCTAssertEqual(missing, [], "targets not named in README.md's Layout section")
  }
}
