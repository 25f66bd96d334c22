/// Helpers that word error messages: articles, suggestions for a
/// misspelt name, operand and overflow errors.

/// "an int", "a list".
func article(_ noun: String) -> String {
  guard let c = noun.first else { return noun }
  return ("aeiou".contains(c) ? "an " : "a ") + noun
}

func overflow(_ op: String, _ loc: SourceLocation) -> MPError {
  MPError(.overflow, "integer overflow in '\(op)' (ints are 64-bit; use floats for bigger numbers)", at: loc)
}

func operandError(_ op: String, _ a: Value, _ b: Value, _ loc: SourceLocation) -> MPError {
  var hint = ""
  if op == "+", case .str = a { hint = " (use str(x) to join \(article(b.typeName)) to a string, or \"{x}\")" }
  if op == "+", case .str = b { hint = " (use str(x) to join \(article(a.typeName)) to a string, or \"{x}\")" }
  return MPError(.type, "unsupported operand types for '\(op)': \(a.typeName) and \(b.typeName)\(hint)", at: loc)
}

func undefinedName(_ name: String, _ m: ModuleScope, _ locals: [String], _ loc: SourceLocation) -> MPError {
  var msg = "undefined name '\(name)'"
  if let s = nearestName(name, among: locals + m.definedNames) { msg += "; did you mean '\(s)'?" }
  return MPError(.name, msg, at: loc)
}

/// The closest candidate by edit distance, if it is close enough to be a typo.
public func nearestName(_ name: String, among candidates: [String]) -> String? {
  let a = Array(name.unicodeScalars)
  var best: (String, Int)? = nil
  for c in Set(candidates) where c != name {
    let b = Array(c.unicodeScalars)
    if abs(a.count - b.count) > 2 { continue }
    // Edit distance counting a swap of neighbours as one edit ("cuont").
    var d2 = Array(repeating: Array(repeating: 0, count: b.count + 1), count: a.count + 1)
    for i in 0...a.count { d2[i][0] = i }
    for j in 0...b.count { d2[0][j] = j }
    if a.count > 0 && b.count > 0 {
      for i in 1...a.count {
        for j in 1...b.count {
          let cost = a[i - 1] == b[j - 1] ? 0 : 1
          d2[i][j] = min(d2[i - 1][j] + 1, d2[i][j - 1] + 1, d2[i - 1][j - 1] + cost)
          if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
            d2[i][j] = min(d2[i][j], d2[i - 2][j - 2] + 1)
          }
        }
      }
    }
    let d = d2[a.count][b.count]
    if d <= max(1, min(a.count, b.count) / 3), best == nil || d < best!.1 || (d == best!.1 && c < best!.0) {
      best = (c, d)
    }
  }
  return best?.0
}
