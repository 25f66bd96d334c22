/// Compiled code: an expression or a statement turned into a Swift closure
/// once, run many times. `Frame` points at the current function's slots.
public typealias Frame = UnsafeMutablePointer<Value>
typealias ExprCode = (Frame) throws -> Value
typealias CondCode = (Frame) throws -> Bool
typealias StmtCode = (Frame) throws -> Flow

/// Closures kept in arrays are stored in a box: an array of bare function
/// values holds them maximally abstracted, and every call pays a thunk.
struct ExprBox {
  let run: ExprCode
}
struct StmtBox {
  let run: StmtCode
}

/// How a statement finished.
enum Flow {
  case next
  case breakLoop
  case continueLoop
  case returned
}

/// Everything about a function that does not change between closures made
/// from it.
public final class FunctionProto {
  public let name: String
  public let paramNames: [String]
  let nrequired: Int
  /// Default-value code, run in the callee's frame when an argument is missing.
  let defaults: [ExprCode?]
  let frameSize: Int
  let selfSlot: Int
  /// Parameter slots an inner function captures: boxed in cells on entry.
  let capturedParams: [Int]
  /// The body: runs in a prepared frame and gives the return value. One
  /// non-optional closure, so calling it needs no reabstraction thunk.
  let run: ExprCode
  public let loc: SourceLocation
  public let sourceText: String
  public unowned let module: ModuleScope
  let upvalueSources: [FnNode.UpvalueSource]
  /// Names of the captured variables, in the order of a closure's cells.
  public let upvalueNames: [String]
  /// Global names its code refers to: what a process that receives this
  /// function may also need (a pool ships the ones that are functions).
  public let globalNames: [String]

  /// Every proto ever compiled in this process, by `uid`. Code is never
  /// freed: closures point at their proto without owning it, and a forked
  /// child finds the same protos at the same uids.
  nonisolated(unsafe) public static var all: [FunctionProto] = []
  public let uid: Int

  init(node: FnNode, module: ModuleScope, defaults: [ExprCode?], run: @escaping ExprCode, bytecode: Bytecode? = nil) {
    self.defaults = defaults
    self.run = run
    self.bytecode = bytecode
    bytecodeRef = bytecode.map { Unmanaged.passUnretained($0) }
    uid = FunctionProto.all.count
    name = node.name
    paramNames = node.params.map { $0.decl.name }
    nrequired = node.params.filter { $0.defaultValue == nil }.count
    frameSize = bytecode?.frameSize ?? node.frameSize
    selfSlot = node.selfSlot
    var cap: [Int] = []
    for p in node.params where p.decl.isCaptured {
      if case .local(let s) = p.decl.storage { cap.append(s) }
    }
    capturedParams = cap
    hasCapturedParams = !cap.isEmpty
    nparams = node.params.count
    fastArity = cap.isEmpty && node.selfSlot < 0 ? nparams : -1
    loc = node.loc
    sourceText = node.sourceText
    self.module = module
    upvalueSources = node.upvalues
    upvalueNames = node.upvalueNames
    globalNames = node.globalRefs
    FunctionProto.all.append(self)
    bytecode?.proto = self
  }

  /// The body as bytecode, when it has that form (Values/Bytecode.swift);
  /// `run` then runs it. The unmanaged copy is what calls from bytecode
  /// read, without counting a reference.
  let bytecode: Bytecode?
  let bytecodeRef: Unmanaged<Bytecode>?

  /// Stored, not computed: the call path reads these on every call.
  let nparams: Int
  let hasCapturedParams: Bool
  /// The argument count a call can enter with no preparation (`nparams`),
  /// or -1 when every call needs some (captured parameters, a self slot).
  let fastArity: Int

  /// `error` with this function's frame added to its mp call stack; `loc`
  /// is where the call was made, shown by the caller's frame.
  @inline(never)
  func traced(_ error: Error, calledAt loc: SourceLocation) -> Error {
    guard var e = error as? MPError else { return error }
    var at = e.pendingLoc ?? self.loc
    if at.line == 0 { at = self.loc }
    e.addTrace(.init(function: name, loc: at))
    e.pendingLoc = loc
    return e
  }
}

/// A function value: code plus the variables it captured.
public final class Closure {
  public let proto: FunctionProto
  public let cells: [Cell]
  init(_ proto: FunctionProto, _ cells: [Cell]) {
    self.proto = proto
    self.cells = cells
  }
}

/// A function written in Swift. `minArgs...maxArgs` is checked before `fn` runs
/// (maxArgs -1: any number).
///
/// Keyword arguments (grammar.md, "Keyword arguments"): a built-in that
/// lists its parameter names in `params` may be called with any of them by
/// name (`join(p, timeout=1)`); the call is turned into a positional one,
/// and a parameter skipped before a named one arrives as `nil` (so an
/// optional parameter must treat `nil` as "not given"). A built-in that
/// takes any number of positional arguments and options after them
/// (`spawn(f, args..., name=, daemon=)`) lists the options in
/// `keywordOnly` and receives them in a dictionary through `fnKeywords`.
public final class Builtin {
  public let name: String
  public let minArgs: Int
  public let maxArgs: Int
  /// One line for `:help`.
  public let doc: String
  public let fn: ([Value], Interpreter) throws -> Value
  /// The parameters' names, in order; empty: positional arguments only.
  public private(set) var params: [String] = []
  /// Names only a keyword can give (after a variadic list), passed to `fnKeywords`.
  public private(set) var keywordOnly: [String] = []
  /// The entry point of a built-in with keyword-only parameters: the
  /// positional arguments, then the keyword-only ones given.
  public private(set) var fnKeywords: (([Value], [String: Value], Interpreter) throws -> Value)? = nil
  /// The same built-in called with exactly one (two) arguments, with no
  /// argument array: set for the ones loops call most (`len`, `abs`,
  /// `min`, ...). Call sites use them when present.
  @exclusivity(unchecked) public internal(set) var fn1: ((Value, Interpreter) throws -> Value)? = nil
  @exclusivity(unchecked) public internal(set) var fn2: ((Value, Value, Interpreter) throws -> Value)? = nil
  /// `len`: a call site whose argument is a local answers an ASCII
  /// string's length from the value's bits (Values/StringBits.swift).
  var isLen = false

  /// Sets `fn1`: what `fn` does with exactly one argument. For built-ins
  /// registered outside this module (`acquire(l)` in a loop).
  @discardableResult
  public func oneArgument(_ f: @escaping (Value, Interpreter) throws -> Value) -> Builtin {
    fn1 = f
    return self
  }

  /// Sets `fn2`: what `fn` does with exactly two arguments (`put(q, x)`).
  @discardableResult
  public func twoArguments(_ f: @escaping (Value, Value, Interpreter) throws -> Value) -> Builtin {
    fn2 = f
    return self
  }

  public init(_ name: String, _ minArgs: Int, _ maxArgs: Int, _ doc: String,
              _ fn: @escaping ([Value], Interpreter) throws -> Value) {
    self.name = name
    self.minArgs = minArgs
    self.maxArgs = maxArgs
    self.doc = doc
    self.fn = fn
  }

  /// A built-in whose parameters may be given by name:
  /// `Builtin("join", 1, 2, doc, params: ["p", "timeout"]) { args, interp in ... }`.
  public convenience init(_ name: String, _ minArgs: Int, _ maxArgs: Int, _ doc: String, params: [String],
                          _ fn: @escaping ([Value], Interpreter) throws -> Value) {
    self.init(name, minArgs, maxArgs, doc, fn)
    self.params = params
  }

  /// A built-in with keyword-only options after its positional arguments:
  /// `Builtin("spawn", 1, -1, doc, params: ["f"], keywordOnly: ["name", "daemon"]) { args, options, interp in ... }`.
  /// A call without keywords passes an empty dictionary.
  public convenience init(_ name: String, _ minArgs: Int, _ maxArgs: Int, _ doc: String, params: [String],
                          keywordOnly: [String],
                          _ fn: @escaping ([Value], [String: Value], Interpreter) throws -> Value) {
    self.init(name, minArgs, maxArgs, doc) { args, interp in try fn(args, [:], interp) }
    self.params = params
    self.keywordOnly = keywordOnly
    self.fnKeywords = fn
  }

  /// Names the parameters of a built-in made without them; returns it, so
  /// `Interpreter.register(Builtin(...).named("p", "timeout"))` reads well.
  @discardableResult
  public func named(_ params: String...) -> Builtin { named(params) }

  @discardableResult
  public func named(_ params: [String]) -> Builtin {
    self.params = params
    return self
  }
}

/// A module's globals: a name table fixed at compile time and a value array
/// indexed by slot, so a global read is one load and one flag check.
public final class ModuleScope: MPObject {
  public let name: String
  public let file: String
  public private(set) var names: [String] = []
  private var index: [String: Int] = [:]
  static let capacity = 16_384
  let values: UnsafeMutablePointer<Value>
  let defined: UnsafeMutablePointer<Bool>
  /// True while its top level runs, so a circular import sees a partial module.
  var isLoading = false

  public init(name: String, file: String) {
    self.name = name
    self.file = file
    values = .allocate(capacity: ModuleScope.capacity)
    defined = .allocate(capacity: ModuleScope.capacity)
    defined.initialize(repeating: false, count: ModuleScope.capacity)
  }

  deinit {
    (values).deinitialize(count: names.count)
    values.deallocate()
    defined.deallocate()
  }

  /// The slot for a global name, allocated on first sight.
  func slot(_ name: String) throws -> Int {
    if let i = index[name] { return i }
    guard names.count < ModuleScope.capacity else {
      throw MPError(.value, "too many global names in \(file) (at most \(ModuleScope.capacity)); keep many values in a list or a map")
    }
    index[name] = names.count
    // Every slot in use holds a value, nil until defined: call sites may
    // then compare a slot's bits with a cached closure without a flag check.
    (values + names.count).initialize(to: .nil)
    names.append(name)
    return names.count - 1
  }

  public func get(_ name: String) -> Value? {
    guard let i = index[name], defined[i] else { return nil }
    return values[i]
  }

  public func set(_ name: String, _ v: Value) {
    guard let i = try? slot(name) else { return }
    define(i, v)
  }

  @inline(__always)
  func define(_ i: Int, _ v: Value) {
    if defined[i] {
      values[i] = v
    } else {
      (values + i).initialize(to: v)
      defined[i] = true
    }
  }

  /// Names that have a value (for completion and suggestions).
  public var definedNames: [String] { names.indices.filter { defined[$0] }.map { names[$0] } }

  public override var typeName: String { "module" }
  public override var repr: String { "<module \(name)>" }
  public override func member(_ name: String) throws -> Value? { get(name) }
  public override var memberNames: [String] { definedNames }

  /// `ex.unit = 0.01`: an importer may change a global the module defines
  /// (an exercise speeds up an imported example); it may not add one.
  public override func setMember(_ name: String, _ value: Value) throws -> Bool {
    guard let i = index[name], defined[i] else {
      throw MPError(.name, "module '\(self.name)' has no global '\(name)' to set (an importer may change a module's globals, not add new ones)")
    }
    define(i, value)
    return true
  }
}
