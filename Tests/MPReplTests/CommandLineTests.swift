import Foundation
import XCTest

/// The command line (docs/reference.md, "Command line") as a user meets it: `mp FILE args` and
/// `mp -e CODE` take a short path past the argument parser, so both paths
/// are checked to mean the same thing.
final class CommandLineTests: XCTestCase {
  func script(_ text: String) throws -> String {
    let path = try makeTempDirectory(self) + "/s.mp"
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
  }

  func testEverythingAfterTheFileIsTheScripts() throws {
    let f = try script("print(argv)\n")
    let r = try runProcess(try mpBinary(), [f, "1", "--time", "-e", "x", "--help"], input: "")
    XCTAssertEqual(r.stdout, "[\"1\", \"--time\", \"-e\", \"x\", \"--help\"]\n", r.stderr)
    XCTAssertEqual(r.status, 0)
    XCTAssertEqual(r.stderr, "")
  }

  func testOptionsBeforeTheFileStillWork() throws {
    let f = try script("print(argv)\n")
    let r = try runProcess(try mpBinary(), ["--time", f, "z"], input: "")
    XCTAssertEqual(r.stdout, "[\"z\"]\n")
    XCTAssertTrue(r.stderr.hasPrefix("time: wall "), r.stderr)
  }

  func testExitCodes() throws {
    let mp = try mpBinary()
    XCTAssertEqual(try runProcess(mp, [try script("print(1)\n")], input: "").status, 0)
    let failing = try runProcess(mp, [try script("fn f() { throw \"no\" }\nf()\n")], input: "")
    XCTAssertEqual(failing.status, 1)
    XCTAssertTrue(failing.stderr.contains("s.mp:1:10: error: no"), failing.stderr)
    XCTAssertEqual(try runProcess(mp, [try script("let = 1\n")], input: "").status, 2)
    let missing = try runProcess(mp, ["/nonexistent/x.mp"], input: "")
    XCTAssertEqual(missing.status, 2)
    XCTAssertEqual(missing.stderr, "mp: cannot read '/nonexistent/x.mp': No such file or directory\n")
    XCTAssertEqual(try runProcess(mp, [try script("exit(7)\n")], input: "").status, 7)
  }

  func testEvalTakesOneProgram() throws {
    let mp = try mpBinary()
    let r = try runProcess(mp, ["-e", "print(1 + 1, argv)"], input: "")
    XCTAssertEqual(r.stdout, "2 []\n")
    XCTAssertEqual(r.status, 0)
    let bad = try runProcess(mp, ["-e", "x"], input: "")
    XCTAssertEqual(bad.status, 1)
    XCTAssertTrue(bad.stderr.hasPrefix("<-e>:1:1: error: undefined name 'x'"), bad.stderr)
    let version = try runProcess(mp, ["--version"], input: "")
    XCTAssertEqual(version.stdout, "0.1.0\n")
  }
}
