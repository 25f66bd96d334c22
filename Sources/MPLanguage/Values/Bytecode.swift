/// Register bytecode for small functions (docs/reference.md, "How code
/// runs"): a function whose body uses only locals, constants, global reads,
/// arithmetic, comparisons, `if`, `while` and calls of global names runs
/// in one loop (`Interpreter.runBytecode`) instead of as nested closures,
/// and a call from such a function to another one is made inside that loop,
/// without a native call. Everything else keeps the closure compiler.
///
/// Registers are frame slots: a function's own locals first, then the
/// temporaries its expressions need, then its constants (copied into the
/// frame by the call, so that every operand is a register).

/// One instruction. `a` is the destination register or, for a jump, the
/// distance to its target in instructions; `b` and `c` are operands.
struct Instr {
  var op: Opcode
  var a: Int32
  var b: Int32
  var c: Int32
}

enum Opcode: UInt8 {
  /// a = b
  case move
  /// a = global b (an error if it is not defined)
  case loadGlobal
  /// a = b op c
  case add, sub, mul, div, floorDiv, mod
  /// a = b op c, where c is an int written in the instruction (`i + 1`).
  case addI, subI, mulI
  case lt, le, gt, ge, eq, ne
  /// a = not b / -b
  case not, neg
  /// Jump to a unless b op c (the comparison of an `if` or `while`).
  case jumpUnlessLt, jumpUnlessLe, jumpUnlessGt, jumpUnlessGe, jumpUnlessEq, jumpUnlessNe
  /// The same with c an int written in the instruction (`if n < 2`).
  case jumpUnlessLtI, jumpUnlessLeI, jumpUnlessGtI, jumpUnlessGeI, jumpUnlessEqI, jumpUnlessNeI
  /// Jump to a if b is falsy / truthy.
  case jumpIfFalse, jumpIfTrue
  case jump
  /// A `while` loop's back edge: counts a tick (Ctrl-C, step limits), then jumps to a.
  case loop
  /// The callee named by call site b must be defined before arguments
  /// are computed (they could fail): the name is looked up first.
  case needGlobal
  /// a = call site b with the arguments in registers c, c+1, ...
  case call
  /// a = call site b with one argument, register or constant c minus the
  /// site's constant (`f(n - 1)`): no temporary, no separate `sub`.
  case callSubK
  /// return b / return nil
  case ret, retNil
  /// return b + c
  case retAdd
  /// return a if b op c, with c an int in the instruction (`if n < 2 { return n }`)
  case retIfLtI, retIfLeI, retIfGtI, retIfGeI, retIfEqI, retIfNeI
}

/// What a call instruction calls: a global name.
struct BytecodeCallSite {
  let global: GlobalOperand
  let argc: Int
  /// The register the callee was read into before the arguments ran, or
  /// -1 to read the global at the call.
  let calleeRegister: Int32
  /// For `callSubK`: the int subtracted from the argument, and where the
  /// subtraction is written (its errors point there).
  let k: Int
  let subLoc: SourceLocation
  /// The closure last called here, if it has bytecode and takes `argc`
  /// arguments with no preparation: its value's bits (pinned, so the
  /// address cannot be reused), its code, proto and frame size. A call
  /// that finds the same bits in the callee's place goes straight in.
  var cacheBits: UInt = 0
  var cacheTag: UInt = ValueLayout.noTag
  var cacheCode: Unmanaged<Bytecode>? = nil
  var cacheProto: Unmanaged<FunctionProto>? = nil
  var cacheSize = 0
  var cacheStart: UnsafeMutablePointer<Instr>? = nil
  var cacheConstants: UnsafeMutablePointer<Value>? = nil
  var cacheConstantCount = 0
  var cacheFirstConstant = 0

  init(global: GlobalOperand, argc: Int, calleeRegister: Int32, k: Int, subLoc: SourceLocation) {
    self.global = global
    self.argc = argc
    self.calleeRegister = calleeRegister
    self.k = k
    self.subLoc = subLoc
  }
}

/// A function body compiled to bytecode. Never freed: protos live as long
/// as the process (see `FunctionProto.all`), and so does their code.
final class Bytecode {
  let code: UnsafeMutablePointer<Instr>
  let count: Int
  let constants: UnsafeMutablePointer<Value>
  let constantCount: Int
  /// The register of the first constant.
  let firstConstant: Int
  /// True when every constant is inline (copied as bits).
  let constantsInline: Bool
  /// Where each instruction's errors are reported.
  let locs: UnsafeMutablePointer<SourceLocation>
  let globals: UnsafeMutablePointer<GlobalOperand>
  let sites: UnsafeMutablePointer<BytecodeCallSite>
  /// Locals plus temporaries: the frame size of a call.
  let frameSize: Int
  /// The function this is the body of (set once the proto exists; protos
  /// are never freed).
  unowned(unsafe) var proto: FunctionProto! = nil

  init(code: [Instr], locs: [SourceLocation], constants: [Value], firstConstant: Int,
       globals: [GlobalOperand], sites: [BytecodeCallSite], frameSize: Int)
  {
    func copy<T>(_ xs: [T]) -> UnsafeMutablePointer<T> {
      let p = UnsafeMutablePointer<T>.allocate(capacity: max(xs.count, 1))
      p.initialize(from: xs, count: xs.count)
      return p
    }
    self.code = copy(code)
    count = code.count
    self.locs = copy(locs)
    self.constants = copy(constants)
    constantCount = constants.count
    self.firstConstant = firstConstant
    constantsInline = constants.allSatisfy(\.isInline)
    self.globals = copy(globals)
    self.sites = copy(sites)
    self.frameSize = frameSize
  }
}

/// One bytecode call in progress: how to resume the caller. (The callee
/// is the code running above it, or the next one's caller: an error
/// unwinding the frames finds each one's code and frame that way.)
struct BytecodeReturn {
  var callerCode: Unmanaged<Bytecode>
  var callerIP: UnsafeMutablePointer<Instr>
  var callerFP: Frame
  /// The register that receives the result.
  var dst: Int
}
