import Foundation

/// Where the `mp` executable of this test run is.
///
/// `swift test` builds the executable into the same products directory as
/// the test bundle (`.build/<triple>/debug`, `.../release` under `-c release`,
/// or under `--scratch-path`), so the binary beside the running test
/// executable is the one built from these sources. A fixed `.build/debug/mp`
/// would silently test a stale build under any other configuration.
/// `MP_BINARY` overrides it (say, to test an installed mp).
public enum BuiltBinary {
  public struct NotFound: Error, CustomStringConvertible {
    public let looked: [String]
    public var description: String {
      "the mp binary of this test run was not found (looked at \(looked.joined(separator: ", "))); "
        + "`swift test` builds it beside the test bundle, or set MP_BINARY"
    }
  }

  /// The candidates in order: `MP_BINARY`, then `mp` beside the test executable.
  public static func candidates() -> [String] {
    var out: [String] = []
    if let env = ProcessInfo.processInfo.environment["MP_BINARY"], !env.isEmpty { out.append(env) }
    var buf = [CChar](repeating: 0, count: 4096)
    let n = readlink("/proc/self/exe", &buf, buf.count - 1)
    if n > 0 {
      let exe = String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
      // The XCTest bundle is an executable directly in the products
      // directory; Swift Testing runs from the same place.
      out.append(URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent("mp").path)
    }
    return out
  }

  /// The path of the built `mp`, or an error that fails the test (never a
  /// skip: a test that cannot find what it tests has not passed).
  public static func path() throws -> String {
    let c = candidates()
    for p in c where FileManager.default.isExecutableFile(atPath: p) { return p }
    throw NotFound(looked: c)
  }

  /// The package's root directory (the one holding Package.swift), for
  /// tests that read fixtures from the repository.
  public static func packageRoot(from file: String = #filePath) -> String {
    var url = URL(fileURLWithPath: file)
    while url.path != "/" {
      url.deleteLastPathComponent()
      if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url.path }
    }
    return "."
  }
}
