// libFuzzer entry over mp's lexer, parser and evaluator. Compiled into the
// MPLanguage module itself by build.sh (so it reaches internal API); the
// process built-ins live in MPRuntime and are not linked at all, and the
// built-ins with effects outside the program (print, sleep, exit, input...)
// are replaced by stubs. A finding is anything that is not an MPError with
// a location: a trap, a non-MP error, an error without a place.
import Glibc

/// The built-ins a fuzzed program may really call: no output, no waiting.
let fuzzPureBuiltins: Set<String> = [
  "str", "repr", "type", "int", "float", "bool", "len", "range", "list", "abs", "min", "max", "sum",
  "round", "sorted", "reversed", "enumerate", "zip", "keys", "values", "contains", "assert", "random",
  "randint", "seed", "now", "map", "filter", "any", "all", "pow",
]

nonisolated(unsafe) var fuzzInterp: Interpreter? = nil
nonisolated(unsafe) var fuzzRan = 0

func fuzzInterpreter() -> Interpreter {
  if let i = fuzzInterp, fuzzRan % 250 != 0 { return i }
  if fuzzInterp == nil {
    _ = Interpreter(mainFile: "warm-up.mp")  // registers the core built-ins
    for (name, b) in Interpreter.builtins where !fuzzPureBuiltins.contains(name) {
      Interpreter.builtins[name] = Builtin(name, b.minArgs, b.maxArgs, "fuzz stub") { _, _ in .nil }
    }
    fuzzInterp = Interpreter(mainFile: "fuzz.mp")
  }
  // A fresh main module now and then, so globals do not pile up.
  let i = fuzzInterp!
  i.reset()
  for (name, b) in Interpreter.builtins where !fuzzPureBuiltins.contains(name) { i.main.set(name, .builtin(b)) }
  return i
}

func fuzzFinding(_ what: String, _ src: String) -> Never {
  let text = "mp-fuzz finding: \(what)\nprogram: \(String(reflecting: src))\n"
  _ = text.withCString { write(2, $0, strlen($0)) }
  abort()
}

/// Literal numbers beyond this keep a program from being evaluated (it is
/// still lexed and parsed): they are how a mutation asks for `[0] * 10**9`.
func fuzzHasHugeLiteral(_ tokens: [Token]) -> Bool {
  for t in tokens {
    switch t.kind {
    case .int(let v): if v > 1000 || v < -1000 { return true }
    case .float(let d): if abs(d) > 1000 { return true }
    default: break
    }
  }
  return false
}

@_cdecl("LLVMFuzzerTestOneInput")
public func mpFuzzOne(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let src = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
  let tokens: [Token]
  do {
    tokens = try Lexer.tokenize(src, file: "fuzz.mp")
  } catch let e as MPError {
    if e.kind != .syntax || e.loc == nil { fuzzFinding("lexer error without syntax kind or location: \(e.kind) \(e.message)", src) }
    _ = e.render()
    return 0
  } catch {
    fuzzFinding("lexer threw a non-MPError: \(error)", src)
  }
  do {
    _ = try Parser.parse(src, file: "fuzz.mp")
  } catch let e as MPError {
    if e.kind != .syntax || e.loc == nil { fuzzFinding("parser error without syntax kind or location: \(e.kind) \(e.message)", src) }
    _ = e.render()
    return 0
  } catch {
    fuzzFinding("parser threw a non-MPError: \(error)", src)
  }
  if fuzzHasHugeLiteral(tokens) { return 0 }
  let interp = fuzzInterpreter()
  fuzzRan += 1
  interp.setStepLimit(2_000)
  do {
    try interp.runEntry(src, file: "fuzz.mp")
  } catch let e as MPError {
    // Step-limit stops come from the periodic tick, which does not know
    // where the program is; every other error must say where it happened.
    if e.loc == nil && e.kind != .timeout { fuzzFinding("\(e.kind) error without a location: \(e.message)", src) }
    _ = e.render()
  } catch {
    fuzzFinding("the evaluator threw a non-MPError: \(error)", src)
  }
  return 0
}
