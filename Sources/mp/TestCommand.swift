import ArgumentParser
import CMPShim
import Glibc
import MPLanguage
import MPTesting

/// `mp test [PATHS...]`: runs each `.mp` file in a fresh `mp` process and
/// checks its output against the file's expectation comments.
struct TestCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "test",
    abstract: "Run .mp files and check them against their '# expect' comments.")

  @Option(name: .long, help: "Seconds a file may run before it is killed and fails.")
  var timeout: Double = 30

  @Flag(name: .shortAndLong, help: "List every file, not only failures.")
  var verbose = false

  @Argument(help: "Files or folders (searched recursively for .mp files). Default: the current folder.")
  var paths: [String] = []

  func run() throws {
    mp_install_sigint()
    let files = try collect(paths.isEmpty ? ["."] : paths)
    let me = selfPath()
    var passed = 0, failed = 0
    for file in files {
      guard let source = Interpreter.readFile(file) else {
        print("FAIL \(file)\n   cannot read the file")
        failed += 1
        continue
      }
      if source.contains("# mp test: skip") { continue }
      let expect = Expectations.parse(source)
      let start = Timing.now()
      let r = Subprocess.run([me, file], timeout: timeout)
      let took = Timing.now() - start
      if mp_interrupt_flag != 0 {
        writeAll(2, "interrupted\n")
        throw ExitCode(130)
      }
      var problem = r.timedOut
        ? "timed out after \(Int(timeout)) s (killed)" : expect.check(stdout: r.stdout, stderr: r.stderr, exitStatus: r.status)
      if problem == nil, source.contains("# mp test: must fail"), r.status == 0 {
        problem = "expected a failure"
      }
      if let problem {
        failed += 1
        writeAll(1, "FAIL \(file)\n\(problem.split(separator: "\n").map { "   " + $0 }.joined(separator: "\n"))\n")
      } else {
        passed += 1
        if verbose { writeAll(1, "ok   \(file) (\(FormatSpec_f(took)) s)\n") }
      }
    }
    writeAll(1, "\(passed) passed, \(failed) failed\n")
    if failed > 0 { throw ExitCode(1) }
  }

  func collect(_ paths: [String]) throws -> [String] {
    var out: [String] = []
    for p in paths {
      var st = stat()
      guard stat(p, &st) == 0 else {
        throw ValidationError("no such file or folder: \(p)")
      }
      if (st.st_mode & S_IFMT) == S_IFDIR {
        out.append(contentsOf: walk(p))
      } else {
        out.append(p)
      }
    }
    return out
  }

  func walk(_ dir: String) -> [String] {
    guard let d = opendir(dir) else { return [] }
    defer { closedir(d) }
    var names: [String] = []
    while let e = readdir(d) {
      let name = withUnsafePointer(to: e.pointee.d_name) {
        $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
      }
      if name.hasPrefix(".") { continue }
      names.append(name)
    }
    var out: [String] = []
    for name in names.sorted() {
      let path = dir == "." ? name : dir.hasSuffix("/") ? dir + name : dir + "/" + name
      var st = stat()
      guard stat(path, &st) == 0 else { continue }
      if (st.st_mode & S_IFMT) == S_IFDIR {
        out.append(contentsOf: walk(path))
      } else if name.hasSuffix(".mp") {
        out.append(path)
      }
    }
    return out
  }
}

func FormatSpec_f(_ x: Double) -> String {
  let hundredths = Int((x * 100).rounded())
  return "\(hundredths / 100).\(String(hundredths % 100).count == 1 ? "0" : "")\(hundredths % 100)"
}

/// The running executable, so `mp test` runs scripts with the same build.
func selfPath() -> String {
  var buf = [CChar](repeating: 0, count: 4096)
  let n = readlink("/proc/self/exe", &buf, 4095)
  if n > 0 { return String(cString: buf) }
  return CommandLine.arguments[0]
}
