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
  nonisolated(unsafe) static var candidate: [Int32: Int32] = [:]
  nonisolated(unsafe) static var candidateSince = 0.0

  static let lookInterval = 0.1
  static let confirmAfter = 0.25

  /// One look at the table; raises the "deadlock" error once confirmed.
  static func check() throws {
    let now = mp_now()
    guard now - lastLook >= lookInterval else { return }
    lastLook = now
    let table = ProcessTable.snapshot()
    guard let stuck = find(table, me: Runtime.myPid, wakers: WaitGraph.wakers) else {
      candidate = [:]
      candidateSince = 0
      return
    }
    // The same waits, not new ones: every other process's sequence number
    // is unchanged. (Ours changes as our own wait goes round its slices.)
    var seqs: [Int32: Int32] = [:]
    for w in stuck where w.pid != Runtime.myPid { seqs[w.pid] = w.seq }
    if candidateSince == 0 || seqs != candidate {
      candidate = seqs
      candidateSince = now
      return
    }
    guard now - candidateSince >= confirmAfter else { return }
    candidate = [:]
    candidateSince = 0
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
