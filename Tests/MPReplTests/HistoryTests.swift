import Foundation
import XCTest

@testable import MPRepl

/// History goes through libedit's own file format; these run in-process
/// (no terminal is needed for history).
final class HistoryTests: XCTestCase {
  func testEntriesSurviveARestartWithMode0600() throws {
    let dir = try makeTempDirectory(self)
    let path = dir + "/history"
    let first = LineEditor(historyPath: path, historyLimit: 100)
    first.addHistory("let x = 1")
    first.addHistory("fn f(a) {\n  return a * 2\n}")
    first.addHistory("print(\"héllo\")")
    var st = stat()
    XCTAssertEqual(stat(path, &st), 0)
    XCTAssertEqual(st.st_mode & 0o777, 0o600)
    let second = LineEditor(historyPath: path, historyLimit: 100)
    XCTAssertEqual(second.entries, ["let x = 1", "fn f(a) {\n  return a * 2\n}", "print(\"héllo\")"])
  }

  func testAnExistingLooserFileIsTightened() throws {
    let dir = try makeTempDirectory(self)
    let path = dir + "/history"
    FileManager.default.createFile(atPath: path, contents: Data(), attributes: [.posixPermissions: 0o644])
    let e = LineEditor(historyPath: path, historyLimit: 10)
    e.addHistory("1")
    var st = stat()
    XCTAssertEqual(stat(path, &st), 0)
    XCTAssertEqual(st.st_mode & 0o777, 0o600)
  }

  func testLengthIsBounded() throws {
    let dir = try makeTempDirectory(self)
    let path = dir + "/history"
    let e = LineEditor(historyPath: path, historyLimit: 5)
    for i in 1...12 { e.addHistory("x = \(i)") }
    XCTAssertEqual(e.entries, (8...12).map { "x = \($0)" })
    XCTAssertEqual(LineEditor(historyPath: path, historyLimit: 5).entries.count, 5)
    // A file written with a longer limit is cut to the current one.
    XCTAssertEqual(LineEditor(historyPath: path, historyLimit: 3).entries, (10...12).map { "x = \($0)" })
  }

  func testBlankAndRepeatedEntriesAreSkipped() throws {
    let dir = try makeTempDirectory(self)
    let e = LineEditor(historyPath: dir + "/history", historyLimit: 10)
    e.addHistory("a")
    e.addHistory("a")
    e.addHistory("   ")
    e.addHistory("")
    e.addHistory("b")
    e.addHistory("a")
    XCTAssertEqual(e.entries, ["a", "b", "a"])
  }

  func testNoFileWhenHistoryIsOff() throws {
    let dir = try makeTempDirectory(self)
    let e = LineEditor(historyPath: nil, historyLimit: 10)
    e.addHistory("a")
    XCTAssertEqual(e.entries, ["a"])
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), [])
  }

  func testUnwritableLocationDoesNotCrash() {
    let e = LineEditor(historyPath: "/nonexistent-dir/for/mp/history", historyLimit: 10)
    e.addHistory("a")
    XCTAssertEqual(e.entries, ["a"])
  }
}
