import Foundation
import MPTestSupport
import XCTest

/// `mp FILE` on files a text editor can leave behind: a byte order mark is
/// skipped, bytes that are not UTF-8 are a syntax error at their place
/// (exit 2), never silently read as U+FFFD.
final class SourceEncodingCommandLineTests: XCTestCase {
  func run(_ bytes: [UInt8]) throws -> (status: Int32, stdout: String, stderr: String, file: String) {
    let dir = NSTemporaryDirectory() + "mp-encoding-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
    let file = dir + "/script.mp"
    FileManager.default.createFile(atPath: file, contents: Data(bytes))
    let p = Process()
    p.executableURL = URL(fileURLWithPath: try BuiltBinary.path())
    p.arguments = [file]
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self), file)
  }

  func testAByteOrderMarkIsSkipped() throws {
    let r = try run([0xEF, 0xBB, 0xBF] + Array("print(\"ok\", -9223372036854775808)\n".utf8))
    XCTAssertEqual(r.status, 0, r.stderr)
    XCTAssertEqual(r.stdout, "ok -9223372036854775808\n")
  }

  func testInvalidUTF8IsASyntaxErrorAtItsPlace() throws {
    let r = try run(Array("print(1)\nprint(\"a".utf8) + [0xC3, 0x28] + Array("\")\n".utf8))
    XCTAssertEqual(r.status, 2, r.stderr)
    XCTAssertEqual(r.stdout, "", "nothing runs when the source cannot be read")
    XCTAssertTrue(r.stderr.hasPrefix("\(r.file):2:9: error: invalid UTF-8 in the source"), r.stderr)
  }
}
