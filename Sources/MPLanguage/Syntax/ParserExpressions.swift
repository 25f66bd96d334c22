/// Expression rules, lowest precedence first.
extension Parser {
  /// expression = orExpr
  mutating func parseExpression() throws -> Expr {
    try nested { p in try p.parseOr() }
  }

  /// orExpr = andExpr { "or" andExpr }
  mutating func parseOr() throws -> Expr {
    var e = try parseAnd()
    var n = 0
    while checkKeyword(.or) {
      try chainStep(&n)
      let t = next()
      e = .binary(.or, e, try parseAnd(), t.loc)
    }
    return e
  }

  /// andExpr = notExpr { "and" notExpr }
  mutating func parseAnd() throws -> Expr {
    var e = try parseNot()
    var n = 0
    while checkKeyword(.and) {
      try chainStep(&n)
      let t = next()
      e = .binary(.and, e, try parseNot(), t.loc)
    }
    return e
  }

  /// notExpr = "not" notExpr | comparison
  mutating func parseNot() throws -> Expr {
    if checkKeyword(.not) {
      let t = next()
      let operand = try nested { p in try p.parseNot() }
      return .unary(.not, operand, t.loc)
    }
    return try parseComparison()
  }


  /// comparison = bitOr [ ( "==" | "!=" | "<" | "<=" | ">" | ">=" | "in" | "not" "in" ) bitOr ]
  mutating func parseComparison() throws -> Expr {
    let left = try parseBitOr()
    guard let (op, t) = comparisonOperator() else { return left }
    let right = try parseBitOr()
    if let (op2, t2) = comparisonOperator() {
      let (a, b) = (op.symbol, op2.symbol)
      throw MPError.syntax(
        "comparisons do not chain: write 'a \(a) b and b \(b) c' instead of 'a \(a) b \(b) c'", at: t2.loc)
    }
    return .binary(op, left, right, t.loc)
  }

  mutating func comparisonOperator() -> (BinaryOperator, Token)? {
    let t = tok
    switch t.kind {
    case .op(let o):
      guard let c = ComparisonOperator(rawValue: o) else { return nil }
      _ = next()
      return (.comparison(c), t)
    case .keyword(.in):
      _ = next()
      return (.membership(negated: false), t)
    case .keyword(.not) where tokens[pos + 1].isKeyword(.in):
      _ = next()
      _ = next()
      return (.membership(negated: true), t)
    default:
      return nil
    }
  }

  /// One left-associative level of binary operators.
  mutating func binaryLevel(_ ops: Set<ArithmeticOperator>, _ operand: (inout Parser) throws -> Expr) throws -> Expr {
    var e = try operand(&self)
    var n = 0
    while true {
      let t = tok
      guard case .op(let o) = t.kind, let op = ArithmeticOperator(rawValue: o), ops.contains(op) else { return e }
      try chainStep(&n)
      _ = next()
      e = .binary(.arithmetic(op), e, try operand(&self), t.loc)
    }
  }

  /// bitOr = bitXor { "|" bitXor }
  mutating func parseBitOr() throws -> Expr { try binaryLevel([.bitOr]) { try $0.parseBitXor() } }

  /// bitXor = bitAnd { "^" bitAnd }
  mutating func parseBitXor() throws -> Expr { try binaryLevel([.bitXor]) { try $0.parseBitAnd() } }

  /// bitAnd = shift { "&" shift }
  mutating func parseBitAnd() throws -> Expr { try binaryLevel([.bitAnd]) { try $0.parseShift() } }

  /// shift = sum { ( "<<" | ">>" ) sum }
  mutating func parseShift() throws -> Expr { try binaryLevel([.shiftLeft, .shiftRight]) { try $0.parseSum() } }

  /// sum = term { ( "+" | "-" ) term }
  mutating func parseSum() throws -> Expr { try binaryLevel([.add, .subtract]) { try $0.parseTerm() } }

  /// term = unary { ( "*" | "/" | "//" | "%" ) unary }
  mutating func parseTerm() throws -> Expr {
    try binaryLevel([.multiply, .divide, .floorDivide, .modulo]) { try $0.parseUnary() }
  }

  /// unary = ( "-" | "~" ) unary | postfix
  mutating func parseUnary() throws -> Expr {
    if check("~") {
      let t = next()
      let operand = try nested { p in try p.parseUnary() }
      return .unary(.bitNot, operand, t.loc)
    }
    if check("-") {
      let t = next()
      if case .minIntMagnitude = tokens[pos].kind {
        _ = next()
        return .literal(.int(Int.min), t.loc)
      }
      let operand = try nested { p in try p.parseUnary() }
      if case .literal(.int(let v), _) = operand, v != Int.min { return .literal(.int(-v), t.loc) }
      if case .literal(.float(let v), _) = operand { return .literal(.float(-v), t.loc) }
      return .unary(.negate, operand, t.loc)
    }
    if check("+") {
      throw error("unexpected '+' (mp has no unary plus)")
    }
    if check("*") {
      throw error("expected an expression, found '*' (mp has no '**'; use pow(a, b))")
    }
    return try parsePostfix()
  }

  /// A chain `a + b + c ...` builds a tree as deep as it is long, and the
  /// later phases walk it recursively: bound it like nesting.
  mutating func chainStep(_ n: inout Int) throws {
    n += 1
    if n > Parser.maxChainLength {
      throw error("expression too long: more than \(Parser.maxChainLength) operators in a row (split it into several statements)")
    }
  }

  /// postfix = primary { "(" arguments ")" | "[" subscript "]" | "." NAME }
  mutating func parsePostfix() throws -> Expr {
    var e = try parsePrimary()
    var n = 0
    while true {
      // Outside brackets a call or index must start on the same line; inside
      // them newlines mean nothing, as in Python.
      let t = skipsNewlines ? tok : tokens[pos]
      if t.isOp("(") || t.isOp("[") || t.isOp(".") { try chainStep(&n) }
      if t.isOp("(") {
        _ = next()
        let (args, keywords) = try parseArguments()
        e = keywords.isEmpty ? .call(e, args, t.loc) : .callKeywords(e, args, keywords, t.loc)
      } else if t.isOp("[") {
        _ = next()
        e = try withNewlines(skipped: true) { p in try p.parseSubscript(e, t.loc) }
      } else if t.isOp(".") {
        _ = next()
        let (name, loc) = try expectName("a member name after '.'")
        e = .member(e, name, loc)
      } else {
        return e
      }
    }
  }

  /// subscript = expression | [ expression ] ":" [ expression ] [ ":" [ expression ] ]
  /// After "["; reads up to and including "]".
  mutating func parseSubscript(_ base: Expr, _ loc: SourceLocation) throws -> Expr {
    var lower: Expr? = nil
    if !check(":") {
      let i = try parseExpression()
      if !check(":") {
        _ = try expect("]", "after the index")
        return .index(base, i, loc)
      }
      lower = i
    }
    _ = next()
    var upper: Expr? = nil, step: Expr? = nil
    if !check(":") && !check("]") { upper = try parseExpression() }
    if match(":") {
      if !check("]") { step = try parseExpression() }
    }
    _ = try expect("]", "after the slice")
    return .slice(base, lower, upper, step, loc)
  }

  /// arguments = [ argument { "," argument } [ "," ] ]
  /// argument = [ NAME "=" ] expression
  /// Keyword arguments come after the positional ones, each name once.
  mutating func parseArguments() throws -> ([Expr], [KeywordArg]) {
    try withNewlines(skipped: true) { p in
      var args: [Expr] = []
      var keywords: [KeywordArg] = []
      while !p.check(")") {
        let t = p.tok
        if case .ident(let name) = t.kind, p.tokens[p.pos + 1].isOp("=") {
          _ = p.next()
          _ = p.next()
          if keywords.contains(where: { $0.name == name }) {
            throw MPError.syntax("keyword argument '\(name)' is given twice", at: t.loc)
          }
          keywords.append(KeywordArg(name: name, value: try p.parseExpression(), loc: t.loc))
        } else {
          let e = try p.parseExpression()
          if let k = keywords.last {
            throw MPError.syntax("a positional argument cannot follow the keyword argument '\(k.name)='", at: e.loc)
          }
          args.append(e)
        }
        if !p.match(",") {
          guard p.check(")") else {
            throw p.error("expected ')' or ',' after an argument, found \(p.tok.display)")
          }
          break
        }
      }
      _ = p.next()
      return (args, keywords)
    }
  }

  /// primary = NUMBER | STRING | "true" | "false" | "nil" | NAME | "(" expression ")"
  ///         | list | map | "fn" "(" params ")" ( block | "=>" expression )
  mutating func parsePrimary() throws -> Expr {
    let t = tok
    switch t.kind {
    case .int(let v):
      _ = next()
      return .literal(.int(v), t.loc)
    case .float(let v):
      _ = next()
      return .literal(.float(v), t.loc)
    case .string(let parts):
      _ = next()
      return try stringExpr(parts, t.loc)
    case .keyword(.true):
      _ = next()
      return .literal(.bool(true), t.loc)
    case .keyword(.false):
      _ = next()
      return .literal(.bool(false), t.loc)
    case .keyword(.nil):
      _ = next()
      return .literal(.nil, t.loc)
    case .ident(let n):
      _ = next()
      return .name(NameRef(n, t.loc))
    case .keyword(.fn):
      _ = next()
      return .function(try parseFunctionRest(name: "<anonymous>", start: t.loc))
    case .op("("):
      _ = next()
      return try withNewlines(skipped: true) { p in
        let e = try p.parseExpression()
        _ = try p.expect(")", "to close '(' at line \(t.loc.line)")
        return e
      }
    case .op("["):
      _ = next()
      return try parseList(t)
    case .op("{"):
      _ = next()
      return try parseMap(t)
    case .minIntMagnitude:
      throw error("integer literal '9223372036854775808' does not fit in 64 bits (only -9223372036854775808 does)")
    case .eof:
      throw error("expected an expression, found end of input")
    case .newline:
      throw error("expected an expression, found end of line")
    default:
      throw error("expected an expression, found \(t.display)")
    }
  }

  /// list = "[" [ expression ( comprehension | { "," expression } [ "," ] ) ] "]"
  mutating func parseList(_ open: Token) throws -> Expr {
    try withNewlines(skipped: true) { p in
      var items: [Expr] = []
      while !p.check("]") {
        items.append(try p.parseExpression())
        if items.count == 1, p.checkKeyword(.for) {
          return .comprehension(try p.parseComprehension(items[0], open))
        }
        if !p.match(",") {
          guard p.check("]") else {
            throw p.error("expected ']' or ',' in the list opened at line \(open.loc.line), found \(p.tok.display)")
          }
          break
        }
      }
      _ = p.next()
      return .list(items, open.loc)
    }
  }

  /// comprehension = "for" loopNames "in" expression [ "if" expression ]
  /// After the element; reads up to and including "]".
  mutating func parseComprehension(_ element: Expr, _ open: Token) throws -> Comprehension {
    _ = next()
    let pattern = try parseLoopNames("after 'for'")
    guard matchKeyword(.in) else { throw error("expected 'in' after the loop variable, found \(tok.display)") }
    let iterable = try parseExpression()
    var condition: Expr? = nil
    if matchKeyword(.if) { condition = try parseExpression() }
    guard check("]") else {
      throw error("expected ']' to end the list comprehension opened at line \(open.loc.line), found \(tok.display)")
    }
    _ = next()
    return Comprehension(element: element, pattern: pattern, iterable: iterable, condition: condition, loc: open.loc)
  }

  /// map = "{" [ expression ":" expression { "," expression ":" expression } [ "," ] ] "}"
  mutating func parseMap(_ open: Token) throws -> Expr {
    try withNewlines(skipped: true) { p in
      var entries: [(Expr, Expr)] = []
      while !p.check("}") {
        let k = try p.parseExpression()
        _ = try p.expect(":", "between a map key and its value")
        let v = try p.parseExpression()
        entries.append((k, v))
        if !p.match(",") {
          guard p.check("}") else {
            throw p.error("expected '}' or ',' in the map opened at line \(open.loc.line), found \(p.tok.display)")
          }
          break
        }
      }
      _ = p.next()
      return .map(entries, open.loc)
    }
  }

  /// Parses each `{expr}` hole of a string literal with a parser of its own.
  mutating func stringExpr(_ parts: [StringPart], _ loc: SourceLocation) throws -> Expr {
    if parts.count == 1, case .text(let s) = parts[0] { return .literal(.str(s), loc) }
    var pieces: [InterpPiece] = []
    for part in parts {
      switch part {
      case .text(let s):
        pieces.append(.text(s))
      case .hole(let source, let at, let spec):
        var sub: Parser
        let e: Expr
        do {
          let toks = try Lexer.tokenize(source, file: file, line: at.line, column: at.column)
          sub = Parser(tokens: toks, file: file)
          sub.newlineModes = [true]
          sub.depth = depth
          e = try sub.parseExpression()
        } catch var err as MPError {
          // The hole's text is complete: running out of it is a real error,
          // not input the REPL should wait for.
          err.isIncomplete = false
          throw err
        }
        if case .eof = sub.tok.kind {} else {
          throw sub.error("expected '}' after the interpolated expression, found \(sub.tok.display)")
        }
        if let spec { try FormatSpec.validate(spec, at: at) }
        pieces.append(.expr(e, spec: spec))
      }
    }
    return .interp(pieces, loc)
  }
}
