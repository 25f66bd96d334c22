/// Messages for calls that cannot be made, which name what was called.

/// How a called name was bound, for "cannot call 'ps': it is a global list".
struct CalleeName {
  let name: String
  /// "local", "global" or "captured".
  let scope: String
}

/// The error for calling a value that is not a function through a name;
/// when the name is also a built-in's, says the variable hides it (a
/// `let ps = []` followed by `ps()` is a common slip).
func notCallable(_ f: Value, _ callee: CalleeName, _ loc: SourceLocation) -> MPError {
  let what: String
  if case .object(let o) = f { what = o.typeName } else { what = f.typeName }
  var msg = "cannot call '\(callee.name)': it is \(article(callee.scope)) \(what)"
  if Interpreter.builtins[callee.name] != nil {
    msg += ", which hides the built-in \(callee.name)()"
  } else {
    msg += ", not a function"
  }
  return MPError(.type, msg, at: loc)
}
