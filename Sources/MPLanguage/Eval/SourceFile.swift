import Glibc

/// Reading a script or an imported module, with the true reason when it
/// cannot be read: "Is a directory", "Permission denied", "No such file or
/// directory" — never an errno left over from an earlier call.
public enum SourceFile {
  public struct Unreadable: Error {
    /// The system's words for what went wrong (strerror).
    public let reason: String
    /// The path does not exist at all (an import says where it looked).
    public let isMissing: Bool
  }

  /// The whole text of `path`. A regular file, a pipe (`mp <(generator)`)
  /// or a character device (`/dev/stdin`) is read to its end; a directory
  /// or a socket is refused.
  public static func read(_ path: String) -> Result<String, Unreadable> {
    func failure(_ code: Int32) -> Result<String, Unreadable> {
      .failure(Unreadable(reason: String(cString: strerror(code)), isMissing: code == ENOENT || code == ENOTDIR))
    }
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return failure(errno) }
    defer { close(fd) }
    var st = stat()
    guard fstat(fd, &st) == 0 else { return failure(errno) }
    switch st.st_mode & S_IFMT {
    case S_IFREG, S_IFIFO, S_IFCHR: break
    case S_IFDIR: return failure(EISDIR)
    default: return .failure(Unreadable(reason: "not a file, a pipe or a device", isMissing: false))
    }
    var bytes: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 65536)
    while true {
      let n = buf.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, 65536) }
      if n < 0 {
        if errno == EINTR { continue }
        return failure(errno)
      }
      if n == 0 { break }
      bytes.append(contentsOf: buf[0..<n])
    }
    return .success(String(decoding: bytes, as: UTF8.self))
  }
}
