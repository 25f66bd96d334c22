/// Operators as the parser reads them, by kind, so that each phase handles
/// every operator of a kind and no "unknown operator" case exists.

/// `a op b` computing a value from two values; also the operator of a
/// compound assignment (`x += 1`).
public enum ArithmeticOperator: String, Sendable, CaseIterable {
  case add = "+", subtract = "-", multiply = "*", divide = "/", floorDivide = "//", modulo = "%"
  case bitAnd = "&", bitOr = "|", bitXor = "^", shiftLeft = "<<", shiftRight = ">>"
}

/// `a op b` giving a bool by comparing.
public enum ComparisonOperator: String, Sendable, CaseIterable {
  case equal = "==", notEqual = "!=", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
}

public enum BinaryOperator: Equatable, Sendable {
  case arithmetic(ArithmeticOperator)
  case comparison(ComparisonOperator)
  /// `x in c`, or `x not in c` when negated.
  case membership(negated: Bool)
  /// `and` / `or`: the right side runs only when needed.
  case and, or

  /// How the operator is written.
  public var symbol: String {
    switch self {
    case .arithmetic(let o): return o.rawValue
    case .comparison(let o): return o.rawValue
    case .membership(let negated): return negated ? "not in" : "in"
    case .and: return "and"
    case .or: return "or"
    }
  }
}

public enum UnaryOperator: String, Sendable {
  case negate = "-", not = "not", bitNot = "~"
}
