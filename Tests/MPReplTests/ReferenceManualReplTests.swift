import Foundation
import XCTest

@testable import MPRepl

/// The REPL's commands and the command line's options each have an entry in
/// docs/reference.md ("The REPL", "Command line", "mp test"), so adding one
/// without documenting it fails here. (Built-ins, members and error kinds
/// are checked by MPRuntimeTests' ReferenceManualTests.)
final class ReferenceManualReplTests: XCTestCase {
  func manual() throws -> String {
    var dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    while dir.path != "/" && !FileManager.default.fileExists(atPath: dir.appendingPathComponent("Package.swift").path) {
      dir.deleteLastPathComponent()
    }
    return try String(contentsOf: dir.appendingPathComponent("docs/reference.md"), encoding: .utf8)
  }

  /// `` `:quit `` is not `` `:quit! ``: the name must end where a name ends.
  func mentions(_ text: String, _ word: String, after prefix: String) -> Bool {
    let escaped = NSRegularExpression.escapedPattern(for: prefix + word)
    guard let re = try? NSRegularExpression(pattern: escaped + "(?![A-Za-z0-9_!-])") else { return false }
    return re.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
  }

  func testEveryReplCommandHasAnEntry() throws {
    let text = try manual()
    XCTAssertTrue(Session.commands.contains(":help"), "the REPL's command table looks empty: \(Session.commands)")
    let missing = Session.commands.filter { !mentions(text, $0, after: "`") }
    XCTAssertEqual(missing, [], "REPL commands without an entry in docs/reference.md, \"The REPL\"")
  }

  func testEveryCommandLineOptionHasAnEntry() throws {
    let mp = try mpBinary()
    let text = try manual()
    for args in [["--help"], ["test", "--help"]] {
      let r = try runProcess(mp, args, input: "")
      XCTAssertEqual(r.status, 0, "mp \(args.joined(separator: " ")) failed: \(r.stderr)")
      let re = try NSRegularExpression(pattern: #"(?<![A-Za-z0-9-])--[a-z][a-z0-9-]*"#)
      let options = Set(re.matches(in: r.stdout, range: NSRange(r.stdout.startIndex..., in: r.stdout)).compactMap {
        Range($0.range, in: r.stdout).map { String(r.stdout[$0]) }
      })
      XCTAssertTrue(options.contains("--help"), "no options read from mp \(args.joined(separator: " ")): \(r.stdout)")
      let missing = options.sorted().filter { !mentions(text, $0, after: "") }
      XCTAssertEqual(missing, [], "options of mp \(args.joined(separator: " ")) without an entry in docs/reference.md")
    }
  }
}
