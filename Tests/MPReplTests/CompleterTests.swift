import MPLanguage
import XCTest

@testable import MPRepl

final class CompleterTests: XCTestCase {
  var interp: Interpreter!
  var completer: Completer!

  override func setUpWithError() throws {
    interp = Interpreter()
    completer = Completer(interpreter: interp, commands: Session.commands)
  }

  func items(_ line: String) -> [String] { completer.complete(line).items }

  func testKeywords() {
    let c = completer.complete("whi")
    XCTAssertEqual(c.items, ["while"])
    XCTAssertEqual(c.tokenStart, 0)
    XCTAssertEqual(c.suffixIfUnique, " ")
    XCTAssertTrue(items("x = tr").contains("true"))
    XCTAssertTrue(items("x = tr").contains("try"))
    XCTAssertTrue(items("ti").contains("time"))
  }

  func testBuiltinsGetAnOpeningParenthesis() {
    let c = completer.complete("pri")
    XCTAssertEqual(c.items, ["print"])
    XCTAssertEqual(c.suffixIfUnique, "(")
    XCTAssertEqual(items("x = so"), ["sorted"])
    XCTAssertEqual(completer.complete("x = so").tokenStart, 4)
  }

  func testGlobalsDefinedInTheSession() throws {
    try interp.runEntry("let counter = 1\nfn count_up(n) { return n + 1 }")
    XCTAssertEqual(items("cou"), ["count_up", "counter"])
    XCTAssertEqual(completer.complete("print(counte").items, ["counter"])
    XCTAssertEqual(completer.complete("print(counte").suffixIfUnique, "")
    XCTAssertEqual(completer.complete("count_").suffixIfUnique, "(")
    interp.reset()
    XCTAssertEqual(items("cou"), [])
  }

  func testMethodsAfterADot() throws {
    try interp.runEntry("let xs = [1]\nlet name = \"mp\"\nlet m = {\"a\": 1}")
    let c = completer.complete("xs.pu")
    XCTAssertEqual(c.items, ["push"])
    XCTAssertEqual(c.tokenStart, 3)
    XCTAssertEqual(c.suffixIfUnique, "(")
    XCTAssertEqual(items("name.up"), ["upper"])
    XCTAssertEqual(items("print(m.ke"), ["keys"])
    XCTAssertEqual(items("xs."), Set(Interpreter.methodNames(of: .list(ListRef([])))).sorted())
    // Unknown names and expressions that would have to run offer nothing.
    XCTAssertEqual(items("nope.x"), [])
    XCTAssertEqual(items("f().x"), [])
    XCTAssertEqual(items("xs[0].x"), [])
    // A number's decimal point is not a member access.
    XCTAssertEqual(items("1.5"), [])
  }

  func testCommands() {
    XCTAssertEqual(items(":"), Session.commands.sorted())
    XCTAssertEqual(items(":l"), [":load"])
    XCTAssertEqual(completer.complete(":l").suffixIfUnique, " ")
    XCTAssertEqual(items(":qu"), [":quit", ":quit!"])
    XCTAssertEqual(items(":p"), [":ps"])
    XCTAssertEqual(items(":tr"), [":trace"])
    XCTAssertEqual(items(":time pri"), ["print"])
    XCTAssertEqual(completer.complete(":time pri").tokenStart, 6)
  }

  func testFileNamesInLoad() throws {
    let dir = try makeTempDirectory(self)
    try FileManager.default.createDirectory(atPath: dir + "/examples", withIntermediateDirectories: true)
    for f in ["examples/01_process.mp", "examples/02_lock.mp", "notes.txt", ".hidden"] {
      FileManager.default.createFile(atPath: dir + "/" + f, contents: Data())
    }
    var c = completer.complete(":load \"\(dir)/ex")
    XCTAssertEqual(c.items, ["\(dir)/examples/"])
    XCTAssertEqual(c.suffixIfUnique, "", "a directory gets no closing quote")
    XCTAssertEqual(c.tokenStart, 7)
    c = completer.complete(":load \"\(dir)/examples/01")
    XCTAssertEqual(c.items, ["\(dir)/examples/01_process.mp"])
    XCTAssertEqual(c.suffixIfUnique, "\"")
    XCTAssertEqual(items(":load \(dir)/examples/0"), ["\(dir)/examples/01_process.mp", "\(dir)/examples/02_lock.mp"])
    XCTAssertEqual(completer.complete(":load \(dir)/examples/01").suffixIfUnique, "")
    XCTAssertEqual(items(":load \"\(dir)/"), ["\(dir)/examples/", "\(dir)/notes.txt"], "dot files only when asked for")
    XCTAssertEqual(items(":load \"\(dir)/."), ["\(dir)/.hidden"])
    XCTAssertEqual(items("import \"\(dir)/n"), ["\(dir)/notes.txt"])
  }

  func testRelativeFileNamesUseTheListing() {
    var asked: [String] = []
    let c = Completer(
      commands: Session.commands, globals: { [] }, lookup: { _ in nil },
      listDirectory: { dir in
        asked.append(dir)
        return [("a.mp", false), ("lib", true)]
      })
    XCTAssertEqual(c.complete(":load \"").items, ["a.mp", "lib/"])
    XCTAssertEqual(c.complete(":load \"lib/").items, ["lib/a.mp", "lib/lib/"])
    XCTAssertEqual(asked, [".", "lib/"])
  }

  func testNothingInsideStringsOrComments() throws {
    try interp.runEntry("let xs = [1]")
    XCTAssertEqual(items("print(\"xs.pu"), [])
    XCTAssertEqual(items("print(\"a\", xs.pu"), ["push"])
    XCTAssertEqual(items("print('it\\'s pri"), [])
  }

  func testBlankLineIndents() {
    XCTAssertEqual(completer.complete("").items, ["    "])
    XCTAssertEqual(completer.complete("  ").tokenStart, 2)
  }

  /// Odd input gives a well-formed answer: a token start inside the line,
  /// sorted distinct candidates that each extend the replaced text, and
  /// nothing offered where nothing fits.
  func testNothingTheUserTypesBreaksIt() {
    let lines = ["\u{0}", "é.", "🙂.x", "::::", ":load \"\u{1F600}", "\"", "'", "\\", ".", "..", "a..b", ":time", ":time ",
                 "x.\u{301}", ":time pri", "🙂pri"]
    for line in lines {
      let c = completer.complete(line)
      let scalars = Array(line.unicodeScalars)
      XCTAssertTrue((0...scalars.count).contains(c.tokenStart), "token start \(c.tokenStart) outside \(line.debugDescription)")
      guard (0...scalars.count).contains(c.tokenStart) else { continue }
      let replaced = String(String.UnicodeScalarView(scalars[c.tokenStart...]))
      XCTAssertEqual(c.items, c.items.sorted(), "unsorted for \(line.debugDescription)")
      XCTAssertEqual(Set(c.items).count, c.items.count, "repeated candidates for \(line.debugDescription)")
      for item in c.items {
        XCTAssertTrue(item.hasPrefix(replaced), "\(item.debugDescription) does not extend \(replaced.debugDescription) in \(line.debugDescription)")
      }
    }
    for line in ["::::", ":load \"\u{1F600}", "\"", "'", "..", "a..b", "🙂.x"] {
      XCTAssertEqual(completer.complete(line).items, [], "candidates offered for \(line.debugDescription)")
    }
    XCTAssertEqual(completer.complete(":time pri").items.first, "print", "a statement after :time completes")
  }

  /// libedit replaces its own idea of the word before the cursor; the
  /// Completer's tokens are rewritten to fit it.
  func testReconcileWithLibeditsWord() {
    let c = Completions(tokenStart: 7, items: ["examples/a.mp", "examples/b.mp"])
    // libedit's word is the last path component: drop the directory part.
    XCTAssertEqual(LineEditor.reconcile(before: ":load \"examples/", word: "", completions: c), ["a.mp", "b.mp"])
    // libedit's word includes the quote: put it back in front.
    let d = Completions(tokenStart: 7, items: ["a.mp"])
    XCTAssertEqual(LineEditor.reconcile(before: ":load \"", word: "\"", completions: d), ["\"a.mp"])
    // The word does not end the line (libedit unescaped it): give up.
    XCTAssertNil(LineEditor.reconcile(before: "abc", word: "zz", completions: d))
    XCTAssertEqual(LineEditor.reconcile(before: "xs.pu", word: "pu", completions: Completions(tokenStart: 3, items: ["push"])), ["push"])
  }

  func testCArrayLayout() throws {
    let array = try XCTUnwrap(LineEditor.cArray(["print", "println"]))
    defer {
      var i = 0
      while let p = array[i] { free(p); i += 1 }
      free(array)
    }
    XCTAssertEqual(array[0].map { String(cString: $0) }, "print")
    XCTAssertEqual(array[1].map { String(cString: $0) }, "print")
    XCTAssertEqual(array[2].map { String(cString: $0) }, "println")
    XCTAssertNil(array[3])
    let one = try XCTUnwrap(LineEditor.cArray(["x"]))
    XCTAssertEqual(one[1].map { String(cString: $0) }, "x")
    XCTAssertNil(one[2], "a unique match is [match, match, NULL]")
    free(one[0]); free(one[1]); free(one)
  }
}
