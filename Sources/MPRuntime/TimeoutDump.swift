import CMPShim
import Glibc

/// For `mp test`: when MP_TEST_DUMP is set, SIGUSR1 makes this process write
/// what every live process of the program is doing (the table `ps()` reads)
/// to stderr, so a script that timed out says where it hung. The handler is
/// C (table_dump.c): it may run while Swift code is anywhere.
public enum TimeoutDump {
  public static func installIfAsked() {
    guard getenv("MP_TEST_DUMP") != nil, let arena = Arena.shared else { return }
    var l = mp_table_layout()
    l.arena = UnsafeRawPointer(arena.base)
    l.table = UnsafeRawPointer(arena.at(Arena.procTableOffset))
    l.entry_size = Int32(Arena.procEntrySize)
    l.capacity = Int32(Arena.procCapacity)
    l.pid_off = Int32(ProcessTable.pidOff)
    l.state_off = Int32(ProcessTable.stateOff)
    l.wait_kind_off = Int32(ProcessTable.waitKindOff)
    l.wait_target_off = Int32(ProcessTable.waitTargetOff)
    l.name_off = Int32(ProcessTable.nameOff)
    l.name_len = Int32(ProcessTable.nameLen)
    l.number_off = 12
    l.payload_off = Int32(SharedHandle.headerSize)
    l.lock_owner_off = Int32(LockHandle.ownerOff)
    l.lock_name_off = Int32(LockHandle.nameOff)
    l.lock_name_len = Int32(LockHandle.nameLen)
    l.queue_count_off = Int32(QueueHandle.putCountOff)
    l.queue_got_off = Int32(QueueHandle.getCountOff)
    l.queue_closed_off = Int32(QueueHandle.closedOff)
    mp_install_table_dump(&l)
  }
}
