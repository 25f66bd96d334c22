import MPTestSupport
import XCTest

/// Every print writes its whole line at once, whatever its length, when
/// stdout is a pipe (docs/reference.md, "Output").
final class OutputTests: XCTestCase {
  /// Lines over PIPE_BUF (4 KiB) from four processes tore into each other
  /// (228 of 1,200 lines of 20 KB) before writes took a shared lock.
  func testLongLinesFromManyProcessesStayWhole() throws {
    let n = TestSize.pick(25, 60)
    let mp = try MPProcess(script: """
      fn writer(c) {
        let line = c * 12000
        for i in range(\(n)) { print(line) }
      }
      let ps = []
      for c in ["a", "b", "c", "d"] { ps.push(spawn(writer, c)) }
      join(ps)
      """)
    defer { mp.cleanup() }
    var lines: [String] = []
    while lines.count < 4 * n, let l = mp.readLine(timeout: 60) { lines.append(l) }
    XCTAssertEqual(mp.wait(timeout: 60), 0, mp.errText)
    XCTAssertEqual(lines.count, 4 * n)
    let torn = lines.filter { $0.count != 12000 || Set($0).count != 1 }.count
    XCTAssertEqual(torn, 0, "\(torn) of \(lines.count) lines were torn")
  }
}
