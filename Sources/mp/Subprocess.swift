import CMPShim
import Glibc
import MPLanguage

/// Runs a command in its own process group, collecting stdout and stderr,
/// and kills the whole group if it outlives the timeout: a fork or
/// semaphore bug in a test script shows up as a hang, never as a stuck run.
struct Subprocess {
  struct Result {
    var stdout: String
    var stderr: String
    /// Exit code, or 128 + signal when killed.
    var status: Int32
    var timedOut: Bool
  }

  /// `extraEnv` ("NAME=value") is added to this process's environment. On a
  /// timeout the program's first process gets SIGUSR1 (an `mp` run with
  /// MP_TEST_DUMP set writes its process table to stderr then) and up to
  /// half a second to do so before the whole group is killed — at once when
  /// stderr shows `dumpEnd`, the dump's last line.
  static func run(_ argv: [String], timeout: Double, extraEnv: [String] = [], dumpEnd: String? = nil) -> Result {
    var outPipe: [Int32] = [0, 0], errPipe: [Int32] = [0, 0]
    guard pipe(&outPipe) == 0, pipe(&errPipe) == 0 else {
      return Result(stdout: "", stderr: "cannot create a pipe: \(String(cString: strerror(errno)))", status: 127, timedOut: false)
    }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
    posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    for fd in [outPipe[0], outPipe[1], errPipe[0], errPipe[1]] {
      posix_spawn_file_actions_addclose(&actions, fd)
    }
    var attr = posix_spawnattr_t()
    posix_spawnattr_init(&attr)
    defer { posix_spawnattr_destroy(&attr) }
    posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
    posix_spawnattr_setpgroup(&attr, 0)
    var defaults = sigset_t()
    sigemptyset(&defaults)
    sigaddset(&defaults, SIGINT)
    sigaddset(&defaults, SIGPIPE)
    posix_spawnattr_setsigdefault(&attr, &defaults)
    var empty = sigset_t()
    sigemptyset(&empty)
    posix_spawnattr_setsigmask(&attr, &empty)

    var cargs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) }
    cargs.append(nil)
    defer { for p in cargs { free(p) } }
    var pid: pid_t = 0
    var envp: [UnsafeMutablePointer<CChar>?] = extraEnv.map { strdup($0) }
    var ep = environ
    while let e = ep.pointee {
      let name = String(cString: e).split(separator: "=", maxSplits: 1).first.map(String.init) ?? ""
      if !extraEnv.contains(where: { $0.hasPrefix(name + "=") }) { envp.append(strdup(e)) }
      ep += 1
    }
    envp.append(nil)
    defer { for p in envp { free(p) } }
    let rc = posix_spawn(&pid, argv[0], &actions, &attr, &cargs, &envp)
    close(outPipe[1])
    close(errPipe[1])
    if rc != 0 {
      close(outPipe[0])
      close(errPipe[0])
      return Result(stdout: "", stderr: "cannot start \(argv[0]): \(String(cString: strerror(rc)))", status: 127, timedOut: false)
    }
    var out: [UInt8] = [], err: [UInt8] = []
    var open = [outPipe[0], errPipe[0]]
    var deadline = Timing.now() + timeout
    var timedOut = false
    var buf = [UInt8](repeating: 0, count: 65536)
    while !open.isEmpty {
      let left = deadline - Timing.now()
      if left <= 0 {
        if timedOut {
          kill(-pid, SIGKILL)
          break
        }
        timedOut = true
        kill(pid, SIGUSR1)
        deadline = Timing.now() + 0.5
        continue
      }
      var fds = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
      let n = poll(&fds, nfds_t(fds.count), Int32(min(left, 1.0) * 1000) + 1)
      if n < 0 {
        if errno == EINTR {
          if mp_interrupt_flag != 0 {
            kill(-pid, SIGKILL)
            break
          }
          continue
        }
        break
      }
      for f in fds where f.revents != 0 {
        let r = buf.withUnsafeMutableBytes { read(f.fd, $0.baseAddress, 65536) }
        if r > 0 {
          if f.fd == outPipe[0] { out.append(contentsOf: buf[0..<r]) } else { err.append(contentsOf: buf[0..<r]) }
          if timedOut, f.fd == errPipe[0], let end = dumpEnd, contains(Array(err.suffix(r + end.utf8.count)), Array(end.utf8)) { deadline = 0 }
        } else if r == 0 || (errno != EINTR && errno != EAGAIN) {
          open.removeAll { $0 == f.fd }
        }
      }
    }
    close(outPipe[0])
    close(errPipe[0])
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    // Anything the script left behind in its group goes too.
    kill(-pid, SIGKILL)
    let code: Int32 = mp_wifexited(status) != 0 ? mp_wexitstatus(status) : 128 + mp_wtermsig(status)
    return Result(stdout: String(decoding: out, as: UTF8.self), stderr: String(decoding: err, as: UTF8.self),
                  status: code, timedOut: timedOut)
  }

  static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
    guard needle.count <= haystack.count else { return false }
    return (0...(haystack.count - needle.count)).contains { i in haystack[i..<(i + needle.count)].elementsEqual(needle) }
  }
}
