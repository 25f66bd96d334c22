/// Operand-specialised code for arithmetic, comparisons and assignments.
///
/// Where an operand is a plain local, a constant or a global, the
/// operation reads it directly instead of calling a child closure: each
/// closure call costs tens of instructions, and loops are made of these
/// nodes. Generic functions over operand and operator types are
/// specialised by the compiler into one closure per shape.

protocol Operand {
  func get(_ fp: Frame) throws -> Value
  /// The operand's int, read in place without copying the value, when it
  /// is one and reading it has no effects; nil sends the caller to `get`.
  func peekInt(_ fp: Frame) -> Int?
  /// Where the operand's value lies, when it is a frame slot (read it
  /// there without copying it); nil otherwise.
  func place(_ fp: Frame) -> UnsafeRawPointer?
}

extension Operand {
  @inline(__always) func peekInt(_ fp: Frame) -> Int? { nil }
  @inline(__always) func place(_ fp: Frame) -> UnsafeRawPointer? { nil }
}

struct LocalOperand: Operand {
  let slot: Int
  @inline(__always) func get(_ fp: Frame) throws -> Value {
    // An int is rebuilt rather than copied: copying a `Value` calls an
    // outlined function that switches on the case to retain it.
    if case .int(let x) = fp[slot] { return .int(x) }
    return fp[slot]
  }
  @inline(__always) func place(_ fp: Frame) -> UnsafeRawPointer? { UnsafeRawPointer(fp + slot) }
  @inline(__always) func peekInt(_ fp: Frame) -> Int? {
    if case .int(let x) = fp[slot] { return x }
    return nil
  }
}

struct ConstOperand: Operand {
  let value: Value
  let int: Int?
  init(value: Value) {
    self.value = value
    if case .int(let x) = value { int = x } else { int = nil }
  }
  @inline(__always) func get(_ fp: Frame) throws -> Value { value }
  @inline(__always) func peekInt(_ fp: Frame) -> Int? { int }
}

/// What a failed global lookup needs to explain itself, kept off the hot path.
final class GlobalInfo {
  let name: String
  let module: ModuleScope
  let locals: [String]
  let loc: SourceLocation
  init(_ name: String, _ module: ModuleScope, _ locals: [String], _ loc: SourceLocation) {
    self.name = name
    self.module = module
    self.locals = locals
    self.loc = loc
  }
  func undefined() -> MPError { undefinedName(name, module, locals, loc) }
}

struct GlobalOperand: Operand {
  let values: UnsafeMutablePointer<Value>
  let defined: UnsafeMutablePointer<Bool>
  let index: Int
  let info: GlobalInfo
  @inline(__always) func get(_ fp: Frame) throws -> Value {
    if defined[index] { return values[index] }
    throw info.undefined()
  }
  @inline(__always) func peekInt(_ fp: Frame) -> Int? {
    if defined[index], case .int(let x) = values[index] { return x }
    return nil
  }
}

struct CodeOperand: Operand {
  let code: ExprCode
  @inline(__always) func get(_ fp: Frame) throws -> Value { try code(fp) }
}

/// `a op b` on two simple operands, computed in place by whoever reads it
/// (a call's argument `n - 1` costs no closure call of its own).
struct BinaryOperand<L: Operand, R: Operand, O: BinaryOp>: Operand {
  let l: L
  let r: R
  let loc: SourceLocation
  @inline(__always) func get(_ fp: Frame) throws -> Value {
    if let x = l.peekInt(fp), let y = r.peekInt(fp), let v = O.ints(x, y) { return v }
    return try O.apply(try l.get(fp), try r.get(fp), loc)
  }
}

/// How an expression can be read, decided at compile time.
enum OperandKind {
  case local(LocalOperand)
  case constant(ConstOperand)
  case global(GlobalOperand)
  case code(CodeOperand)
}

protocol BinaryOp {
  static func apply(_ a: Value, _ b: Value, _ loc: SourceLocation) throws -> Value
  /// Two ints: the result, or nil to take the general path (overflow, `/`).
  static func ints(_ a: Int, _ b: Int) -> Value?
}

extension BinaryOp {
  @inline(__always) static func ints(_ a: Int, _ b: Int) -> Value? { nil }
}

enum AddOp: BinaryOp {
  @inline(__always) static func ints(_ a: Int, _ b: Int) -> Value? {
    let (r, o) = a.addingReportingOverflow(b)
    return o ? nil : .int(r)
  }
  @inline(__always) static func apply(_ a: Value, _ b: Value, _ loc: SourceLocation) throws -> Value {
    if case .int(let x) = a, case .int(let y) = b {
      let (r, o) = x.addingReportingOverflow(y)
      if !o { return .int(r) }
    }
    return try add(a, b, loc)
  }
}

enum SubOp: BinaryOp {
  @inline(__always) static func ints(_ a: Int, _ b: Int) -> Value? {
    let (r, o) = a.subtractingReportingOverflow(b)
    return o ? nil : .int(r)
  }
  @inline(__always) static func apply(_ a: Value, _ b: Value, _ loc: SourceLocation) throws -> Value {
    if case .int(let x) = a, case .int(let y) = b {
      let (r, o) = x.subtractingReportingOverflow(y)
      if !o { return .int(r) }
    }
    return try subtract(a, b, loc)
  }
}

enum MulOp: BinaryOp {
  @inline(__always) static func ints(_ a: Int, _ b: Int) -> Value? {
    let (r, o) = a.multipliedReportingOverflow(by: b)
    return o ? nil : .int(r)
  }
  @inline(__always) static func apply(_ a: Value, _ b: Value, _ loc: SourceLocation) throws -> Value {
    if case .int(let x) = a, case .int(let y) = b {
      let (r, o) = x.multipliedReportingOverflow(by: y)
      if !o { return .int(r) }
    }
    return try multiply(a, b, loc)
  }
}

enum DivOp: BinaryOp {
  static func apply(_ a: Value, _ b: Value, _ loc: SourceLocation) throws -> Value { try divide(a, b, loc) }
}

enum FloorDivOp: BinaryOp {
  static func apply(_ a: Value, _ b: Value, _ loc: SourceLocation) throws -> Value { try floorDivide(a, b, loc) }
}

enum ModOp: BinaryOp {
  @inline(__always) static func apply(_ a: Value, _ b: Value, _ loc: SourceLocation) throws -> Value {
    if case .int(let x) = a, case .int(let y) = b, y > 0, x >= 0 { return .int(x % y) }
    return try modulo(a, b, loc)
  }
}

protocol CompareOp {
  static func test(_ a: Value, _ b: Value, _ loc: SourceLocation) throws -> Bool
  static func ints(_ a: Int, _ b: Int) -> Bool
}

enum LtOp: CompareOp {
  @inline(__always) static func ints(_ a: Int, _ b: Int) -> Bool { a < b }
  @inline(__always) static func test(_ a: Value, _ b: Value, _ loc: SourceLocation) throws -> Bool {
    if case .int(let x) = a, case .int(let y) = b { return x < y }
    return try lessThan(a, b, "<", loc)
  }
}

enum LeOp: CompareOp {
  @inline(__always) static func ints(_ a: Int, _ b: Int) -> Bool { a <= b }
  @inline(__always) static func test(_ a: Value, _ b: Value, _ loc: SourceLocation) throws -> Bool {
    if case .int(let x) = a, case .int(let y) = b { return x <= y }
    return try lessOrEqual(a, b, "<=", loc)
  }
}

enum GtOp: CompareOp {
  @inline(__always) static func ints(_ a: Int, _ b: Int) -> Bool { a > b }
  @inline(__always) static func test(_ a: Value, _ b: Value, _ loc: SourceLocation) throws -> Bool {
    if case .int(let x) = a, case .int(let y) = b { return x > y }
    return try lessThan(b, a, ">", loc, swapped: true)
  }
}

enum GeOp: CompareOp {
  @inline(__always) static func ints(_ a: Int, _ b: Int) -> Bool { a >= b }
  @inline(__always) static func test(_ a: Value, _ b: Value, _ loc: SourceLocation) throws -> Bool {
    if case .int(let x) = a, case .int(let y) = b { return x >= y }
    return try lessOrEqual(b, a, ">=", loc, swapped: true)
  }
}

enum EqOp: CompareOp {
  @inline(__always) static func ints(_ a: Int, _ b: Int) -> Bool { a == b }
  @inline(__always) static func test(_ a: Value, _ b: Value, _ loc: SourceLocation) throws -> Bool {
    if case .int(let x) = a, case .int(let y) = b { return x == y }
    return try located(loc) { try valuesEqual(a, b) }
  }
}

enum NeOp: CompareOp {
  @inline(__always) static func ints(_ a: Int, _ b: Int) -> Bool { a != b }
  @inline(__always) static func test(_ a: Value, _ b: Value, _ loc: SourceLocation) throws -> Bool {
    if case .int(let x) = a, case .int(let y) = b { return x != y }
    return try located(loc) { try !valuesEqual(a, b) }
  }
}

func binaryCode<L: Operand, R: Operand, O: BinaryOp>(_ l: L, _ r: R, _: O.Type, _ loc: SourceLocation) -> ExprCode {
  { fp in
    if let x = l.peekInt(fp), let y = r.peekInt(fp), let v = O.ints(x, y) { return v }
    return try O.apply(try l.get(fp), try r.get(fp), loc)
  }
}

func compareCode<L: Operand, R: Operand, O: CompareOp>(_ l: L, _ r: R, _: O.Type, _ loc: SourceLocation) -> CondCode {
  { fp in
    if let x = l.peekInt(fp), let y = r.peekInt(fp) { return O.ints(x, y) }
    return try O.test(try l.get(fp), try r.get(fp), loc)
  }
}

/// One closure per combination of operand kinds for operator O.
func specializedBinary<O: BinaryOp>(_ a: OperandKind, _ b: OperandKind, _ o: O.Type, _ loc: SourceLocation) -> ExprCode {
  switch (a, b) {
  case (.local(let l), .local(let r)): return binaryCode(l, r, o, loc)
  case (.local(let l), .constant(let r)): return binaryCode(l, r, o, loc)
  case (.local(let l), .global(let r)): return binaryCode(l, r, o, loc)
  case (.local(let l), .code(let r)): return binaryCode(l, r, o, loc)
  case (.constant(let l), .local(let r)): return binaryCode(l, r, o, loc)
  case (.constant(let l), .constant(let r)): return binaryCode(l, r, o, loc)
  case (.constant(let l), .global(let r)): return binaryCode(l, r, o, loc)
  case (.constant(let l), .code(let r)): return binaryCode(l, r, o, loc)
  case (.global(let l), .local(let r)): return binaryCode(l, r, o, loc)
  case (.global(let l), .constant(let r)): return binaryCode(l, r, o, loc)
  case (.global(let l), .global(let r)): return binaryCode(l, r, o, loc)
  case (.global(let l), .code(let r)): return binaryCode(l, r, o, loc)
  case (.code(let l), .local(let r)): return binaryCode(l, r, o, loc)
  case (.code(let l), .constant(let r)): return binaryCode(l, r, o, loc)
  case (.code(let l), .global(let r)): return binaryCode(l, r, o, loc)
  case (.code(let l), .code(let r)): return binaryCode(l, r, o, loc)
  }
}

func specializedCompare<O: CompareOp>(_ a: OperandKind, _ b: OperandKind, _ o: O.Type, _ loc: SourceLocation) -> CondCode {
  switch (a, b) {
  case (.local(let l), .local(let r)): return compareCode(l, r, o, loc)
  case (.local(let l), .constant(let r)): return compareCode(l, r, o, loc)
  case (.local(let l), .global(let r)): return compareCode(l, r, o, loc)
  case (.local(let l), .code(let r)): return compareCode(l, r, o, loc)
  case (.constant(let l), .local(let r)): return compareCode(l, r, o, loc)
  case (.constant(let l), .constant(let r)): return compareCode(l, r, o, loc)
  case (.constant(let l), .global(let r)): return compareCode(l, r, o, loc)
  case (.constant(let l), .code(let r)): return compareCode(l, r, o, loc)
  case (.global(let l), .local(let r)): return compareCode(l, r, o, loc)
  case (.global(let l), .constant(let r)): return compareCode(l, r, o, loc)
  case (.global(let l), .global(let r)): return compareCode(l, r, o, loc)
  case (.global(let l), .code(let r)): return compareCode(l, r, o, loc)
  case (.code(let l), .local(let r)): return compareCode(l, r, o, loc)
  case (.code(let l), .constant(let r)): return compareCode(l, r, o, loc)
  case (.code(let l), .global(let r)): return compareCode(l, r, o, loc)
  case (.code(let l), .code(let r)): return compareCode(l, r, o, loc)
  }
}

/// `x = v` and `x op= v` where x is a plain local or a global.
func assignCode<V: Operand>(toLocal s: Int, _ v: V) -> StmtCode {
  { fp in
    fp[s] = try v.get(fp)
    return .next
  }
}

func compoundCode<V: Operand, O: BinaryOp>(toLocal s: Int, _ v: V, _: O.Type, _ loc: SourceLocation) -> StmtCode {
  if O.self == AddOp.self {
    let bits = StringBits.current
    return { fp in
      if let x = LocalOperand(slot: s).peekInt(fp), let y = v.peekInt(fp), let sum = AddOp.ints(x, y) {
        fp[s] = sum
        return .next
      }
      let r = try v.get(fp)
      // `s += "ab"` appends in place: into the string inside the value when
      // no other variable holds that value, else the slot gives up its
      // string first, so the append finds the storage unshared (amortised
      // O(1), not a copy).
      if case .str(let y) = r, let x = bits.uniqueString(fp + s) {
        appendString(&x.pointee, y)
        return .next
      }
      if case .str(let y) = r, case .str(var x) = fp[s] {
        fp[s] = .nil
        appendString(&x, y)
        fp[s] = .str(x)
        return .next
      }
      fp[s] = try O.apply(fp[s], r, loc)
      return .next
    }
  }
  return { fp in
    if let x = LocalOperand(slot: s).peekInt(fp), let y = v.peekInt(fp), let r = O.ints(x, y) {
      fp[s] = r
      return .next
    }
    fp[s] = try O.apply(fp[s], try v.get(fp), loc)
    return .next
  }
}

func compoundCode<V: Operand, O: BinaryOp>(toGlobal g: GlobalOperand, _ v: V, _: O.Type, _ loc: SourceLocation) -> StmtCode {
  if O.self == AddOp.self {
    return { fp in
      if let x = g.peekInt(fp), let y = v.peekInt(fp), let sum = AddOp.ints(x, y) {
        g.values[g.index] = sum
        return .next
      }
      let old = try g.get(fp)
      let r = try v.get(fp)
      if case .str(let y) = r, case .str(var x) = old {
        g.values[g.index] = .nil
        _ = consume old
        appendString(&x, y)
        g.values[g.index] = .str(x)
        return .next
      }
      g.values[g.index] = try O.apply(old, r, loc)
      return .next
    }
  }
  return { fp in
    if let x = g.peekInt(fp), let y = v.peekInt(fp), let r = O.ints(x, y) {
      g.values[g.index] = r
      return .next
    }
    let old = try g.get(fp)
    g.values[g.index] = try O.apply(old, try v.get(fp), loc)
    return .next
  }
}

extension Compiler {
  /// How `e` can be read without a closure call, if it can.
  func operand(_ e: Expr) throws -> OperandKind {
    if let leaf = try leafOperand(e) { return leaf }
    var me = self
    return .code(CodeOperand(code: try me.compileExpr(e)))
  }

  /// `e` as a local, constant or global operand, or nil — without compiling
  /// anything. A caller that only looks for a simple operand must use this:
  /// compiling a sub-expression to look at it, then again for the general
  /// path, doubles the work at every level of nesting (exponential: a
  /// 150-character line of `a|b//c|...` never finished compiling).
  func leafOperand(_ e: Expr) throws -> OperandKind? {
    switch e {
    case .literal(let v, _):
      return .constant(ConstOperand(value: v))
    case .name(let ref):
      switch ref.binding {
      case .local(let d):
        if !d.isCaptured, case .local(let s) = d.storage { return .local(LocalOperand(slot: s)) }
      case .global, .unresolved:
        return .global(try globalOperand(ref))
      case .upvalue: break
      }
    default: break
    }
    return nil
  }

  /// The compiled code of `e`, reusing what `operand(e)` already compiled.
  func code(of e: Expr, _ kind: OperandKind) throws -> ExprCode {
    if case .code(let c) = kind { return c.code }
    var me = self
    return try me.compileExpr(e)
  }

  func globalOperand(_ ref: NameRef) throws -> GlobalOperand {
    GlobalOperand(values: module.values, defined: module.defined, index: try globalSlot(ref),
                  info: GlobalInfo(ref.name, module, localNames, ref.loc))
  }

  /// The module slot of a global name; a full table is an error at the name.
  func globalSlot(_ ref: NameRef) throws -> Int {
    do { return try module.slot(ref.name) } catch let e as MPError { throw e.located(ref.loc) }
  }

  /// Arithmetic specialised by operand shape; nil for the bitwise
  /// operators, which loops rarely spend their time in.
  func specializedArithmetic(_ op: ArithmeticOperator, _ a: OperandKind, _ b: OperandKind, _ loc: SourceLocation) -> ExprCode? {
    switch op {
    case .add: return specializedBinary(a, b, AddOp.self, loc)
    case .subtract: return specializedBinary(a, b, SubOp.self, loc)
    case .multiply: return specializedBinary(a, b, MulOp.self, loc)
    case .divide: return specializedBinary(a, b, DivOp.self, loc)
    case .floorDivide: return specializedBinary(a, b, FloorDivOp.self, loc)
    case .modulo: return specializedBinary(a, b, ModOp.self, loc)
    case .bitAnd, .bitOr, .bitXor, .shiftLeft, .shiftRight: return nil
    }
  }

  func specializedComparison(_ op: ComparisonOperator, _ a: OperandKind, _ b: OperandKind, _ loc: SourceLocation) -> CondCode {
    switch op {
    case .less: return specializedCompare(a, b, LtOp.self, loc)
    case .lessOrEqual: return specializedCompare(a, b, LeOp.self, loc)
    case .greater: return specializedCompare(a, b, GtOp.self, loc)
    case .greaterOrEqual: return specializedCompare(a, b, GeOp.self, loc)
    case .equal: return specializedCompare(a, b, EqOp.self, loc)
    case .notEqual: return specializedCompare(a, b, NeOp.self, loc)
    }
  }

  /// `target op= value` for plain locals and globals, or nil.
  func specializedCompound(_ op: ArithmeticOperator, _ s: Int?, _ g: GlobalOperand?, _ v: OperandKind, _ loc: SourceLocation) -> StmtCode? {
    func make<O: BinaryOp>(_ o: O.Type) -> StmtCode {
      if let s {
        switch v {
        case .local(let x): return compoundCode(toLocal: s, x, o, loc)
        case .constant(let x): return compoundCode(toLocal: s, x, o, loc)
        case .global(let x): return compoundCode(toLocal: s, x, o, loc)
        case .code(let x): return compoundCode(toLocal: s, x, o, loc)
        }
      }
      let g = g!
      switch v {
      case .local(let x): return compoundCode(toGlobal: g, x, o, loc)
      case .constant(let x): return compoundCode(toGlobal: g, x, o, loc)
      case .global(let x): return compoundCode(toGlobal: g, x, o, loc)
      case .code(let x): return compoundCode(toGlobal: g, x, o, loc)
      }
    }
    guard s != nil || g != nil else { return nil }
    switch op {
    case .add: return make(AddOp.self)
    case .subtract: return make(SubOp.self)
    case .multiply: return make(MulOp.self)
    case .divide: return make(DivOp.self)
    case .floorDivide: return make(FloorDivOp.self)
    case .modulo: return make(ModOp.self)
    case .bitAnd, .bitOr, .bitXor, .shiftLeft, .shiftRight: return nil
    }
  }
}

/// Builds code around an operand of a statically known type (Swift has no
/// generic closures; a generic method on a consumer type does the job, and
/// each use is specialised).
protocol OperandConsumer {
  associatedtype Result
  func make<A: Operand>(_ a: A) -> Result
}

extension Compiler {
  /// Hands `consumer` the cheapest operand type that reads `e`: a simple
  /// operand, `simple op simple` for + - *, or a compiled closure.
  func withOperand<C: OperandConsumer>(_ e: Expr, _ consumer: C) throws -> C.Result {
    if case .binary(.arithmetic(let op), let a, let b, let loc) = e, op == .add || op == .subtract || op == .multiply {
      let l = try leafOperand(a), r = try leafOperand(b)
      func pair<O: BinaryOp>(_ o: O.Type) -> C.Result? {
        switch (l, r) {
        case (.local(let x), .constant(let y)): return consumer.make(BinaryOperand<LocalOperand, ConstOperand, O>(l: x, r: y, loc: loc))
        case (.local(let x), .local(let y)): return consumer.make(BinaryOperand<LocalOperand, LocalOperand, O>(l: x, r: y, loc: loc))
        case (.constant(let x), .local(let y)): return consumer.make(BinaryOperand<ConstOperand, LocalOperand, O>(l: x, r: y, loc: loc))
        default: return nil
        }
      }
      let made: C.Result?
      switch op {
      case .add: made = pair(AddOp.self)
      case .subtract: made = pair(SubOp.self)
      case .multiply: made = pair(MulOp.self)
      case .divide, .floorDivide, .modulo, .bitAnd, .bitOr, .bitXor, .shiftLeft, .shiftRight: made = nil
      }
      if let made { return made }
    }
    switch try operand(e) {
    case .local(let x): return consumer.make(x)
    case .constant(let x): return consumer.make(x)
    case .global(let x): return consumer.make(x)
    case .code(let x): return consumer.make(x)
    }
  }
}

/// `if c { return a } else rest`, the value read straight from its operand.
struct GuardReturn: OperandConsumer {
  let cond: CondCode
  let rest: ExprCode
  // Results are boxed: a bare closure returned through a generic result is
  // reabstracted, and every call would pay a thunk.
  func make<A: Operand>(_ a: A) -> ExprBox {
    let c = cond, r = rest
    return ExprBox { fp in try c(fp) ? try a.get(fp) : try r(fp) }
  }
}

/// `if local OP int { return a } else rest` in one closure: the base case
/// of a recursive function costs no separate condition call.
struct GuardLocalCompare<O: CompareOp>: OperandConsumer {
  let slot: Int
  let k: ConstOperand
  let rest: ExprCode
  let loc: SourceLocation
  func make<A: Operand>(_ a: A) -> ExprBox {
    let node = GuardLocalCompareNode<O, A>(slot: slot, k: k, rest: rest, a: a, loc: loc)
    return ExprBox { fp in try node.run(fp) }
  }
}

/// The code of `GuardLocalCompare`: one captured reference, and the test
/// of anything but two ints out of line.
final class GuardLocalCompareNode<O: CompareOp, A: Operand> {
  let slot: Int
  let kInt: Int
  let kIsInt: Bool
  let rest: ExprCode
  let a: A
  let k: ConstOperand
  let loc: SourceLocation

  init(slot: Int, k: ConstOperand, rest: @escaping ExprCode, a: A, loc: SourceLocation) {
    self.slot = slot
    kInt = k.int ?? 0
    kIsInt = k.int != nil
    self.rest = rest
    self.a = a
    self.k = k
    self.loc = loc
  }

  @inline(__always)
  func run(_ fp: Frame) throws -> Value {
    let hit: Bool
    if kIsInt, case .int(let x) = fp[slot] {
      hit = O.ints(x, kInt)
    } else {
      hit = try test(fp)
    }
    return hit ? try a.get(fp) : try rest(fp)
  }

  @inline(never)
  func test(_ fp: Frame) throws -> Bool { try O.test(fp[slot], k.value, loc) }
}

extension Compiler {
  /// The fused form of `if cond { return e }` when cond compares a local with a constant.
  func guardReturn(_ cond: Expr, _ e: Expr, rest: @escaping ExprCode) throws -> ExprCode? {
    guard case .binary(.comparison(let op), let a, let b, let loc) = cond,
      case .local(let l) = try leafOperand(a), case .constant(let k) = try leafOperand(b)
    else { return nil }
    func fused<O: CompareOp>(_: O.Type) throws -> ExprCode {
      try withOperand(e, GuardLocalCompare<O>(slot: l.slot, k: k, rest: rest, loc: loc)).run
    }
    switch op {
    case .less: return try fused(LtOp.self)
    case .lessOrEqual: return try fused(LeOp.self)
    case .greater: return try fused(GtOp.self)
    case .greaterOrEqual: return try fused(GeOp.self)
    case .equal: return try fused(EqOp.self)
    case .notEqual: return try fused(NeOp.self)
    }
  }
}
