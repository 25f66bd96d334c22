import CMPShim
import Glibc
import MPLanguage

extension Runtime {
  /// `MP_MAX_PROCS`, checked: the process table has `Arena.procCapacity`
  /// entries and the main process takes one, so a larger limit could never
  /// be kept (children past the table's end would go unseen by `ps()`,
  /// deadlock detection and the end-of-program reaping). A setting that is
  /// not a number in range is refused rather than ignored.
  static func maxProcsSetting(default fallback: Int) throws -> Int {
    guard let raw = getenv("MP_MAX_PROCS"), raw.pointee != 0 else { return fallback }
    let text = String(cString: raw)
    let most = Arena.procCapacity - 1
    guard let n = Int(text.trimmingCharacters(in: " \t")), n >= 0 else {
      throw MPError(.value, "MP_MAX_PROCS must be a whole number from 0 to \(most), found '\(text)'")
    }
    guard n <= most else {
      throw MPError(.value, "MP_MAX_PROCS is \(n), but the process table holds at most \(most) processes besides the main one")
    }
    return n
  }
}

extension String {
  fileprivate func trimmingCharacters(in set: String) -> String {
    var s = Substring(self)
    while let c = s.first, set.contains(c) { s.removeFirst() }
    while let c = s.last, set.contains(c) { s.removeLast() }
    return String(s)
  }
}

extension Runtime {
  /// Refuses `n` more processes before any of them is forked when they
  /// would pass MP_MAX_PROCS: a pool too big for the limit must not fork
  /// hundreds of workers and then fail (and kill them all again).
  static func checkRoom(forWorkers n: Int, of what: String) throws {
    reapFinished()
    reapLeaving()
    let live = Int(mp_atomic_load(Arena.shared.word(Arena.liveOffset)))
    if n + live > maxProcs {
      throw MPError(
        .process,
        "\(what) needs \(n) worker processes, but MP_MAX_PROCS is \(maxProcs) and \(live) \(live == 1 ? "is" : "are") alive (use fewer workers, or raise MP_MAX_PROCS)")
    }
  }
}
