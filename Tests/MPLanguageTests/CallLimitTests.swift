import Foundation
import MPTestSupport
import XCTest

/// Calls count no ticks of their own (Eval/Calls.swift, VMState.callLimit):
/// a step limit and Ctrl-C send every call through the slow path instead.
/// A recursion with no loop in it must still be bounded by the one and
/// stopped by the other.
final class CallLimitTests: XCTestCase {
  func testAStepLimitStopsARecursionWithNoLoop() {
    let r = LanguageTestSupport.run("""
      fn fib(n) {
        if n < 2 { return n }
        return fib(n - 1) + fib(n - 2)
      }
      print(fib(10))
      print(fib(60))
      """, stepLimit: 100_000)
    XCTAssertEqual(r.lines, ["55"])
    XCTAssertEqual(r.error?.kind, .timeout, "\(String(describing: r.error))")
  }

  func testCtrlCStopsARecursionWithNoLoop() throws {
    let dir = NSTemporaryDirectory() + "mp-calllimit-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
    let file = dir + "/fib.mp"
    FileManager.default.createFile(atPath: file, contents: Data("""
      fn fib(n) {
        if n < 2 { return n }
        return fib(n - 1) + fib(n - 2)
      }
      print("ready")
      print(fib(60))
      """.utf8))
    let p = Process()
    p.executableURL = URL(fileURLWithPath: try BuiltBinary.path())
    p.arguments = [file]
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    defer { if p.isRunning { kill(p.processIdentifier, SIGKILL) } }
    // "ready" is printed, then the recursion runs for hours unless stopped.
    let ready = out.fileHandleForReading.availableData
    XCTAssertEqual(String(decoding: ready, as: UTF8.self), "ready\n")
    usleep(200_000)
    XCTAssertEqual(kill(p.processIdentifier, SIGINT), 0)
    let deadline = Date().addingTimeInterval(20)
    while p.isRunning && Date() < deadline { usleep(20_000) }
    XCTAssertFalse(p.isRunning, "Ctrl-C did not stop the recursion")
    if p.isRunning { return }
    XCTAssertEqual(p.terminationStatus, 130)
    let e = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    XCTAssertTrue(e.contains("error: interrupted"), e)
  }
}
