/// Functions arriving from another process (pool tasks, queue items).
extension Interpreter {
  /// Returns a closure for code sent by another process, with fresh cells
  /// for its captured variables (the sender's values are filled in by the
  /// caller). A process forked after the code was compiled has the same
  /// proto under the same uid; otherwise the source is compiled here, once,
  /// inside a wrapper whose parameters stand for the captured variables.
  public func reviveFunction(uid: Int, name: String, source: String, moduleFile: String,
                             upvalueNames: [String]) throws -> Closure {
    if uid >= 0, uid < FunctionProto.all.count {
      let p = FunctionProto.all[uid]
      if p.name == name, p.sourceText == source, p.upvalueNames == upvalueNames {
        return Closure(p, upvalueNames.map { _ in Cell(.nil) })
      }
    }
    let key = "\(moduleFile)\u{0}\(name)\u{0}\(source)"
    if let wrapper = revived[key] {
      return try instantiate(wrapper, upvalueNames.count, name)
    }
    guard !source.isEmpty else {
      throw MPError(.value, "function '\(name)' cannot be rebuilt in this process (no source)")
    }
    let module = moduleNamed(file: moduleFile) ?? main
    let body = name == "<anonymous>" ? "return \(source)" : "\(source)\nreturn \(name)"
    let text = "fn(\(upvalueNames.joined(separator: ", "))) {\n\(body)\n}"
    let file = "<code of \(name) from \(moduleFile)>"
    SourceRegistry.shared.register(file: file, text: text)
    let stmts = try Parser.parse(text, file: file)
    guard stmts.count == 1, case .expr(.function(let fn)) = stmts[0] else {
      throw MPError(.value, "function '\(name)' cannot be rebuilt in this process")
    }
    var r = Resolver()
    r.resolveProgram(stmts)
    var c = Compiler(interp: self, module: module, echo: false)
    let make = try c.compileFunction(fn)
    let wrapper = make(vm.pointee.sp)
    revived[key] = wrapper
    return try instantiate(wrapper, upvalueNames.count, name)
  }

  private func instantiate(_ wrapper: Value, _ n: Int, _ name: String) throws -> Closure {
    let made = try call(wrapper, Array(repeating: .nil, count: n))
    guard case .function(let c) = made else {
      throw MPError(.value, "function '\(name)' cannot be rebuilt in this process")
    }
    return c
  }

  /// Defines globals shipped with a function from another process (the
  /// functions it calls, the constants it reads) in the module of that file,
  /// keeping a function this process already has under the same code.
  /// With `onlyMissing`, a global this process already has is kept: a pool
  /// worker's globals are its own (docs/reference.md, "Pools").
  public func defineShipped(moduleFile: String, globals: MapRef, onlyMissing: Bool = false) {
    let module = moduleNamed(file: moduleFile) ?? main
    for (i, k) in globals.keys.enumerated() {
      guard case .str(let name) = k else { continue }
      if onlyMissing, module.get(name) != nil { continue }
      let v = globals.values[i]
      if case .function(let new)? = Optional(v), case .function(let old)? = module.get(name),
        old.proto.uid == new.proto.uid, old.cells.isEmpty
      {
        continue
      }
      module.set(name, v)
    }
  }
}
