import CMPShim
import Glibc

/// The evaluator's registers, behind a pointer that compiled closures
/// capture: no reference counting and no exclusivity checks on the hot path.
struct VMState {
  /// First free slot of the value stack; a call's frame starts here.
  var sp: Frame
  var stackEnd: Frame
  /// Where a call's frame must end for the call to take the fast path:
  /// `stackEnd`'s address normally, 0 when every call must go through the
  /// slow path (a step limit is set, or Ctrl-C was pressed: the SIGINT
  /// handler sets it, through `mp_call_limit`). Calls count no ticks of
  /// their own: this one comparison stands for both checks.
  var callLimit: UInt = 0
  var retval: Value = .nil
  var depth = 0
  /// Counts down at every loop iteration and every call that reaches
  /// `enterSlow` (all of them under a step limit); at zero the slow path
  /// checks for Ctrl-C and the step limit.
  var ticks = 0
  /// Steps left before a "step limit" error (tests and fuzzing); Int.max if unlimited.
  var stepsLeft = Int.max
  /// The native stack must not grow below this address.
  var stackFloor: UInt = 0
  /// Processes started (spawn, pool workers), for timing lines.
  var processesStarted = 0
  /// Bytecode calls in progress (Eval/BytecodeVM.swift), innermost last:
  /// there are never more than the depth limit of them.
  var returns = UnsafeMutablePointer<BytecodeReturn>.allocate(capacity: maxCallDepth + 16)
  var returnTop = 0
  /// Bytes of strings being built (interpolation), used as a stack: each
  /// builder appends above what its callers left and cuts back to it.
  var scratch = ByteStack()
}

/// A growable stack of bytes with no reference counting or exclusivity
/// checks (it lives inside `VMState`).
struct ByteStack {
  private(set) var base = UnsafeMutablePointer<UInt8>.allocate(capacity: 256)
  private(set) var capacity = 256
  var count = 0

  @inline(__always)
  mutating func reserve(_ n: Int) {
    if count + n > capacity { grow(count + n) }
  }

  mutating func grow(_ need: Int) {
    var cap = capacity * 2
    while cap < need { cap *= 2 }
    let b = UnsafeMutablePointer<UInt8>.allocate(capacity: cap)
    b.update(from: base, count: count)
    base.deallocate()
    base = b
    capacity = cap
  }

  @inline(__always)
  mutating func append(_ byte: UInt8) {
    reserve(1)
    base[count] = byte
    count += 1
  }

  mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
    reserve(bytes.count)
    if let p = bytes.baseAddress { (base + count).update(from: p, count: bytes.count) }
    count += bytes.count
  }

  mutating func append(_ s: String) {
    var s = s
    s.withUTF8 { append($0) }
  }

  /// Decimal digits of `i`, written in place.
  mutating func append(_ i: Int) {
    reserve(20)
    if i < 0 { base[count] = UInt8(ascii: "-"); count += 1 }
    var m = i.magnitude
    var digits = 1
    var t = m
    while t >= 10 { t /= 10; digits += 1 }
    var at = count + digits
    count = at
    repeat {
      at -= 1
      base[at] = UInt8(truncatingIfNeeded: m % 10) &+ 48
      m /= 10
    } while m != 0
  }

  /// The string made of the bytes from `start` on; cuts the stack back to `start`.
  mutating func take(from start: Int) -> String {
    let s = String(decoding: UnsafeBufferPointer(start: base + start, count: count - start), as: UTF8.self)
    count = start
    // One huge string must not keep its buffer for the rest of the run.
    if start == 0 && capacity > 1 << 20 {
      base.deallocate()
      base = .allocate(capacity: 256)
      capacity = 256
    }
    return s
  }
}

let tickInterval = 4096
/// Python's default is 1,000; mp allows more but stops long before the
/// native stack could overflow (the byte bound below catches wide frames).
/// A multiple of 16: calls check it only every 16 levels (Eval/Calls.swift).
public let maxCallDepth = 10_000
let valueStackSize = 1 << 20

extension Interpreter {
  static func makeVM() -> UnsafeMutablePointer<VMState> {
    let stack = Frame.allocate(capacity: valueStackSize)
    let vm = UnsafeMutablePointer<VMState>.allocate(capacity: 1)
    vm.initialize(to: VMState(sp: stack, stackEnd: stack + valueStackSize))
    vm.pointee.ticks = tickInterval
    vm.pointee.callLimit = UInt(bitPattern: stack + valueStackSize)
    // The newest interpreter's limit is the one Ctrl-C lowers (a process
    // runs one; VMs are never freed, so the address stays valid).
    mp_call_limit = withUnsafeMutablePointer(to: &vm.pointee.callLimit) { UnsafeMutablePointer<UInt>($0) }
    // Leave 1 MiB of the native stack for Swift code that runs below the
    // deepest mp call (printing, error rendering, built-ins).
    if mp_stack_bottom != 0 {
      vm.pointee.stackFloor = UInt(mp_stack_bottom) + (1 << 20)
    } else {
      var lim = rlimit()
      getrlimit(__rlimit_resource_t(RLIMIT_STACK.rawValue), &lim)
      let size = lim.rlim_cur == rlim_t.max ? UInt(8 << 20) : UInt(min(lim.rlim_cur, 64 << 20))
      vm.pointee.stackFloor = UInt(mp_stack_pointer()) &- size &+ (1 << 20)
    }
    return vm
  }

  /// The call limit when nothing is pending (see `VMState.callLimit`).
  /// The flag is read after the store: a Ctrl-C landing in between has
  /// set the limit to 0 itself, one landing before is seen here.
  func restoreCallLimit() {
    vm.pointee.callLimit = vm.pointee.stepsLeft == Int.max ? UInt(bitPattern: vm.pointee.stackEnd) : 0
    if mp_interrupt_flag != 0 { vm.pointee.callLimit = 0 }
  }

  /// The periodic check: Ctrl-C and the step limit.
  func slowTick(_ loc: SourceLocation) throws {
    vm.pointee.ticks = tickInterval
    restoreCallLimit()
    if mp_interrupt_flag != 0 {
      mp_interrupt_flag = 0
      throw MPError(.interrupt, "interrupted", at: loc)
    }
    if vm.pointee.stepsLeft != Int.max {
      vm.pointee.stepsLeft -= tickInterval
      if vm.pointee.stepsLeft <= 0 {
        throw MPError(.timeout, "step limit reached", at: loc)
      }
    }
  }
}
