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

  @Flag(name: .shortAndLong, help: "List every file, not only failures (skipped ones too).")
  var verbose = false

  @Argument(help: "Files or folders (searched recursively for .mp files). Default: the current folder.")
  var paths: [String] = []

  func run() throws {
    mp_install_sigint()
    let files = try collect(paths.isEmpty ? ["."] : paths)
    let me = selfPath()
    var passed = 0, failed = 0, skipped = 0
    let kindFile = "/tmp/mp-test-kind-\(getpid())"
    defer { unlink(kindFile) }
    for file in files {
      guard let source = Interpreter.readFile(file) else {
        print("FAIL \(file)\n   cannot read the file")
        failed += 1
        continue
      }
      let expect = Expectations.parse(source, file: file)
      if expect.isSkipped {
        skipped += 1
        if verbose { writeAll(1, "skip \(file) (# mp test: skip)\n") }
        continue
      }
      for w in expect.warnings { writeAll(1, "warning: \(file): \(w)\n") }
      if !expect.checksSomething {
        failed += 1
        writeAll(1, """
          FAIL \(file)
             checks nothing: it has no '# expect' comment and calls no assert, so it would pass
             whatever it printed. Add expectations, or '# expect no output' if printing nothing
             and succeeding is the point, or '# mp test: skip' for a helper other files import.

          """)
        continue
      }
      unlink(kindFile)
      let start = Timing.now()
      let r = Subprocess.run([me, file], timeout: timeout,
                             extraEnv: ["MP_TEST_DUMP=1", "MP_TEST_ERROR_KIND_FILE=\(kindFile)"],
                             dumpEnd: MP_TABLE_DUMP_END)
      let took = Timing.now() - start
      if mp_interrupt_flag != 0 {
        writeAll(2, "interrupted\n")
        throw ExitCode(130)
      }
      let kind = Interpreter.readFile(kindFile).map { $0.trimmingTrailingNewline }
      var problem = r.timedOut
        ? timeoutReport(r) : expect.check(stdout: r.stdout, stderr: r.stderr, exitStatus: r.status, errorKind: kind)
      if problem == nil, expect.mustFail, r.status == 0 {
        problem = "expected a failure"
      }
      if let problem {
        failed += 1
        writeAll(1, "FAIL \(file)\n\(problem.split(separator: "\n", omittingEmptySubsequences: false).map { "   " + $0 }.joined(separator: "\n"))\n")
      } else {
        passed += 1
        if verbose { writeAll(1, "ok   \(file) (\(FormatSpec_f(took)) s)\n") }
      }
    }
    writeAll(1, "\(passed) passed, \(failed) failed" + (skipped > 0 ? ", \(skipped) skipped" : "") + "\n")
    if failed > 0 { throw ExitCode(1) }
  }

  /// What a learner needs when a script hangs: what it printed, and what
  /// each of its processes was waiting on when the time ran out.
  func timeoutReport(_ r: Subprocess.Result) -> String {
    let marker = "mp: live processes when the time ran out:"
    var stderr = r.stderr
    var table = ""
    var i = stderr.startIndex
    while i < stderr.endIndex {
      if stderr[i...].hasPrefix(marker) {
        table = String(stderr[stderr.index(i, offsetBy: marker.count)...])
        stderr = String(stderr[..<i])
        break
      }
      i = stderr.index(after: i)
    }
    func tail(_ s: String) -> String {
      let lines = s.split(separator: "\n", omittingEmptySubsequences: false).dropLast(s.hasSuffix("\n") ? 1 : 0)
      let shown = lines.suffix(20)
      let skippedNote = lines.count > shown.count ? "  ... (\(lines.count - shown.count) earlier lines)\n" : ""
      return skippedNote + shown.map { "  " + $0 }.joined(separator: "\n")
    }
    var out = "timed out after \(formatDuration(timeout)) s (killed)"
    out += r.stdout.isEmpty ? "\nstdout so far: nothing" : "\nstdout so far:\n" + tail(r.stdout)
    if !stderr.isEmpty { out += "\nstderr so far:\n" + tail(stderr) }
    let rows = table.split(separator: "\n").filter { !$0.isEmpty && $0 != MP_TABLE_DUMP_END }
    if rows.isEmpty {
      out += "\n(the program did not say what its processes were doing)"
    } else {
      out += "\nwhat each live process was doing:\n" + rows.joined(separator: "\n")
      if rows.contains(where: { $0.contains("waiting to get from queue") && $0.contains("not closed") }) {
        out += "\n(a process waiting to get from a queue nobody closes waits forever: did a producer forget close()?)"
      }
    }
    return out
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

extension String {
  var trimmingTrailingNewline: String {
    var s = Substring(self)
    while s.last == "\n" || s.last == " " { s = s.dropLast() }
    return String(s)
  }
}

/// Called by `mp FILE` when an error ends the program: under `mp test`
/// (MP_TEST_ERROR_KIND_FILE set) the runner learns the error's kind, so
/// `# expect error: deadlock` can match the kind as well as the message.
func reportErrorKindForTest(_ kind: String) {
  guard let path = getenv("MP_TEST_ERROR_KIND_FILE") else { return }
  let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
  guard fd >= 0 else { return }
  writeAll(fd, kind)
  close(fd)
}
