import CMPShim
import Glibc
import MPLanguage

/// Deadlock detection (docs/reference.md, "Deadlock detection"). It runs in
/// the main process only, between the slices of its own blocking waits — no
/// thread, no extra process: if main is not waiting, the program is not
/// deadlocked. It is reported when every live process of the program waits
/// without a timeout, no wait's condition already holds, and every process
/// that alone could wake a waiter is itself one of the waiters — and all of
/// that unchanged over two looks at least a quarter of a second apart.
enum Deadlock {
  nonisolated(unsafe) static var lastLook = 0.0
  nonisolated(unsafe) static var confirmation = Confirmation()

  static let lookInterval = 0.1
  static let confirmAfter = 0.25

  /// Two looks that found the same waits, at least `confirmAfter` apart,
  /// with main inside one and the same wait of its own between them. The
  /// last part matters: a look left over from an earlier wait (main went
  /// on, ran, and waited again) says nothing about now. A pool call that
  /// found its workers dead, reaped before it could replace them, read as
  /// main alone; many calls later, the next such call was "confirmed" at
  /// its first look.
  struct Confirmation {
    var seqs: [Int32: Int32] = [:]
    var epoch = 0
    var since = 0.0

    /// One look. `seqs`: the change counts of the other waiting processes,
    /// nil if this is no deadlock; `epoch`: ProcessTable.waitEpoch. True
    /// once confirmed (and it starts again from nothing).
    mutating func look(_ seqs: [Int32: Int32]?, epoch: Int, now: Double) -> Bool {
      guard let seqs else {
        self = Confirmation()
        return false
      }
      if since == 0 || seqs != self.seqs || epoch != self.epoch {
        self = Confirmation(seqs: seqs, epoch: epoch, since: now)
        return false
      }
      guard now - since >= Deadlock.confirmAfter else { return false }
      self = Confirmation()
      return true
    }
  }

  /// One look at the table; raises the "deadlock" error once confirmed.
  static func check() throws {
    let now = mp_now()
    guard now - lastLook >= lookInterval else { return }
    lastLook = now
    let table = ProcessTable.snapshot()
    let stuck = find(table, me: Runtime.myPid, wakers: WaitGraph.wakers)
    // The same waits, not new ones: every other process's sequence number
    // is unchanged. (Ours changes as our own wait goes round its slices.)
    let seqs = stuck.map { s in
      Dictionary(s.filter { $0.pid != Runtime.myPid }.map { ($0.pid, $0.seq) }, uniquingKeysWith: { a, _ in a })
    }
    guard confirmation.look(seqs, epoch: ProcessTable.waitEpoch, now: now), let stuck else { return }
    let message = report(stuck, me: Runtime.myPid)
    killAll(stuck.map(\.pid).filter { $0 != Runtime.myPid })
    throw MPError(.deadlock, message)
  }

  /// The waiting processes if `table` is a deadlock, else nil. `me` is the
  /// process looking (it is inside a wait, whatever its entry says this
  /// instant). Pure, for tests: `wakers` says who can wake each waiter.
  static func find(_ table: [ProcessTable.Info], me: Int32,
                   wakers: (ProcessTable.Info) -> WaitGraph.Wakers) -> [ProcessTable.Info]? {
    let live = table.filter { $0.state != .exited }
    let pids = Set(live.map(\.pid))
    guard pids.contains(me) else { return nil }
    for w in live {
      guard w.state == .waiting, !w.timed else { return nil }
      switch wakers(w) {
      case .proceeds: return nil
      case .process(let p):
        // Ending (or dying) wakes a joiner, and a lock whose holder died is
        // handed to the next acquirer.
        if !pids.contains(p) { return nil }
      case .anyone: break
      }
    }
    return live
  }

  /// The wait-for chain, starting from main and following each waiter to
  /// the one process that could wake it; then the others.
  static func report(_ stuck: [ProcessTable.Info], me: Int32) -> String {
    var byPid: [Int32: ProcessTable.Info] = [:]
    for w in stuck { byPid[w.pid] = w }
    func who(_ p: Int32) -> String {
      if p == me && !Runtime.isChild { return "main" }
      return "pid \(p)\(byPid[p].map { " (\($0.name))" } ?? "")"
    }
    var order: [Int32] = []
    var seen = Set<Int32>()
    func follow(_ start: Int32) {
      var p = start
      while !seen.contains(p), let w = byPid[p] {
        seen.insert(p)
        order.append(p)
        guard case .process(let next) = WaitGraph.wakers(w) else { break }
        p = next
      }
    }
    follow(me)
    for w in stuck.sorted(by: { $0.pid < $1.pid }) { follow(w.pid) }
    let clauses = order.compactMap { p in byPid[p].map { "\(who(p)) \(WaitGraph.clause($0, who: who))" } }
    return "deadlock: every process of the program is waiting and none can wake another: " + clauses.joined(separator: "; ")
  }

  /// Kills the deadlocked processes and reaps them: this process's own
  /// children here, the others (grandchildren, whose parents die with
  /// them) as the orphans they become, which come to the main process.
  static func killAll(_ pids: [Int32]) {
    // Stopped first, all of them: a process that died at once would hand
    // its locks to another waiter, which could run on for a moment before
    // its own SIGKILL lands (and print what a deadlock never prints).
    for p in pids { Glibc.kill(p, SIGSTOP) }
    for p in pids { Glibc.kill(p, SIGKILL) }
    for h in Runtime.children where pids.contains(h.pid) && h.status == nil {
      if h.fd >= 0 {
        close(h.fd)
        h.fd = -1
      }
      while h.status == nil { Runtime.reap(h, blocking: true) }
      Runtime.settle(h)
    }
    let others = Set(pids).subtracting(Runtime.children.map(\.pid))
    let deadline = mp_now() + 0.5
    while mp_now() < deadline, others.contains(where: { ProcessTable.contains($0) }) {
      Runtime.reapAny()
      usleep(2_000)
    }
  }
}
