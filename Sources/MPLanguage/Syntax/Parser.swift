/// A recursive-descent parser. Each `parseX` method is named after the rule
/// of `grammar.md` it reads and carries that rule above it.
///
/// Newlines: inside `( )`, `[ ]` and map braces they are insignificant; inside
/// a block's braces they separate statements again, even when the block sits
/// inside parentheses. A stack of modes tracks which applies.
public struct Parser {
  var tokens: [Token]
  var pos = 0
  var newlineModes: [Bool] = [false]  // true: skip newlines
  var depth = 0
  let file: String
  let text: [Unicode.Scalar]
  let lineStarts: [Int]
  /// Line number of the first line of `text` (REPL entries continue a session).
  var firstLine = 1
  /// Deep nesting is refused long before the native stack could overflow.
  static let maxDepth = 200
  /// Longest chain of one binary operator level. The `mp` executable runs on
  /// a 1 GiB stack and raises it; embedders on an 8 MiB stack keep 1,000.
  nonisolated(unsafe) public static var maxChainLength = 1_000

  public init(tokens: [Token], file: String, text: String = "") {
    self.tokens = tokens
    self.file = file
    self.text = Array(text.unicodeScalars)
    var starts = [0]
    for (i, c) in self.text.enumerated() where c == "\n" { starts.append(i + 1) }
    self.lineStarts = starts
  }

  /// Parses a whole program (a script, a REPL entry, an imported file).
  public static func parse(_ source: String, file: String, firstLine: Int = 1) throws -> [Stmt] {
    let source = Lexer.withoutByteOrderMark(source)
    let toks = try Lexer.tokenize(source, file: file, line: firstLine)
    var p = Parser(tokens: toks, file: file, text: source)
    p.firstLine = firstLine
    return try p.parseProgram()
  }

  // MARK: token access

  var skipsNewlines: Bool { newlineModes[newlineModes.count - 1] }

  mutating func skipIgnoredNewlines() {
    if skipsNewlines {
      while case .newline = tokens[pos].kind { pos += 1 }
    }
  }

  var tok: Token {
    mutating get {
      skipIgnoredNewlines()
      return tokens[pos]
    }
  }

  mutating func next() -> Token {
    skipIgnoredNewlines()
    let t = tokens[pos]
    if pos < tokens.count - 1 { pos += 1 }
    return t
  }

  mutating func check(_ op: String) -> Bool { tok.isOp(op) }
  mutating func checkKeyword(_ k: Keyword) -> Bool { tok.isKeyword(k) }

  mutating func match(_ op: String) -> Bool {
    if check(op) {
      _ = next()
      return true
    }
    return false
  }

  mutating func matchKeyword(_ k: Keyword) -> Bool {
    if checkKeyword(k) {
      _ = next()
      return true
    }
    return false
  }

  mutating func error(_ message: String, at t: Token? = nil) -> MPError {
    let t = t ?? tok
    var incomplete = false
    if case .eof = t.kind { incomplete = true }
    return MPError.syntax(message, at: t.loc, incomplete: incomplete)
  }

  mutating func expect(_ op: String, _ context: String) throws -> Token {
    if check(op) { return next() }
    throw error("expected '\(op)' \(context), found \(tok.display)")
  }

  mutating func expectName(_ context: String) throws -> (String, SourceLocation) {
    let t = tok
    if case .ident(let n) = t.kind {
      _ = next()
      return (n, t.loc)
    }
    if case .keyword(let k) = t.kind {
      throw error("expected \(context), found keyword '\(k.rawValue)' (keywords cannot be used as names)")
    }
    throw error("expected \(context), found \(t.display)")
  }

  mutating func withNewlines<T>(skipped: Bool, _ body: (inout Parser) throws -> T) rethrows -> T {
    newlineModes.append(skipped)
    defer { newlineModes.removeLast() }
    return try body(&self)
  }

  mutating func nested<T>(_ body: (inout Parser) throws -> T) throws -> T {
    depth += 1
    defer { depth -= 1 }
    if depth > Parser.maxDepth { throw error("program nested too deeply (more than \(Parser.maxDepth) levels)") }
    return try body(&self)
  }

  // MARK: statements

  /// program = { separator } { statement { separator } } EOF
  mutating func parseProgram() throws -> [Stmt] {
    var stmts: [Stmt] = []
    skipSeparators()
    while true {
      if case .eof = tok.kind { break }
      stmts.append(try parseStatement())
      try endStatement()
    }
    return stmts
  }

  /// separator = newline | ";"
  mutating func skipSeparators() {
    while true {
      let k = tokens[pos].kind
      if case .newline = k { pos += 1; continue }
      if case .op(";") = k { pos += 1; continue }
      break
    }
  }

  /// After a statement: a newline, ';', '}' or the end of input.
  mutating func endStatement() throws {
    let t = tokens[pos]
    switch t.kind {
    case .newline, .op(";"):
      skipSeparators()
    case .eof, .op("}"):
      break
    default:
      throw error("expected end of statement (a newline or ';'), found \(t.display)", at: t)
    }
  }

  /// block = "{" { separator } { statement { separator } } "}"
  mutating func parseBlock(_ context: String) throws -> [Stmt] {
    guard check("{") else { throw error("expected '{' \(context), found \(tok.display)") }
    return try withNewlines(skipped: false) { p in
      try p.nested { p in
        let open = p.next()
        var stmts: [Stmt] = []
        p.skipSeparators()
        while !p.tokens[p.pos].isOp("}") {
          if case .eof = p.tokens[p.pos].kind {
            throw MPError.syntax("expected '}' to close the block opened at line \(open.loc.line), found end of input",
                                 at: p.tokens[p.pos].loc, incomplete: true)
          }
          stmts.append(try p.parseStatement())
          try p.endStatement()
        }
        p.pos += 1
        return stmts
      }
    }
  }

  /// statement = letStmt | fnDecl | returnStmt | ifStmt | whileStmt | forStmt
  ///           | "break" | "continue" | withStmt | tryStmt | throwStmt
  ///           | importStmt | timeStmt | assignment | expression
  /// returnStmt = "return" [ expression ]
  /// whileStmt = "while" expression block
  /// throwStmt = "throw" expression
  /// timeStmt = "time" block
  mutating func parseStatement() throws -> Stmt {
    let t = tok
    switch t.kind {
    case .keyword(.let): return try parseLet()
    case .keyword(.fn):
      if case .ident = tokens[pos + 1].kind { return try parseFnDecl() }
    case .keyword(.return):
      _ = next()
      if atStatementEnd { return .ret(nil, t.loc) }
      return .ret(try parseExpression(), t.loc)
    case .keyword(.if): return try parseIf()
    case .keyword(.while):
      _ = next()
      let cond = try parseExpression()
      return .whileLoop(cond, try parseBlock("after the 'while' condition"), t.loc)
    case .keyword(.for): return try parseFor()
    case .keyword(.break):
      _ = next()
      return .breakLoop(t.loc)
    case .keyword(.continue):
      _ = next()
      return .continueLoop(t.loc)
    case .keyword(.with): return try parseWith()
    case .keyword(.try): return try parseTry()
    case .keyword(.throw):
      _ = next()
      if atStatementEnd { throw error("expected a value after 'throw', found \(tok.display)") }
      return .throwValue(try parseExpression(), t.loc)
    case .keyword(.import): return try parseImport()
    case .keyword(let k) where [.else, .catch, .as, .in].contains(k):
      throw error("unexpected '\(k.rawValue)' at the start of a statement")
    case .ident("time"):
      if tokens[pos + 1].isOp("{") {
        _ = next()
        return .time(try parseBlock("after 'time'"), t.loc)
      }
    case .op("}"):
      throw error("unexpected '}' (no block is open)")
    default: break
    }
    return try parseAssignmentOrExpression()
  }

  var atStatementEnd: Bool {
    mutating get {
      switch tok.kind {
      case .newline, .eof, .op(";"), .op("}"): return true
      default: return false
      }
    }
  }

  /// letStmt = "let" NAME { "," NAME } "=" values
  mutating func parseLet() throws -> Stmt {
    let start = next()
    let (name, loc) = try expectName("a name after 'let'")
    var decls = [Decl(name, loc)]
    while match(",") {
      let (n, l) = try expectName("another name after ',' in 'let'")
      decls.append(Decl(n, l))
    }
    let shown = decls.map(\.name).joined(separator: ", ")
    let eq = try expect("=", "after 'let \(shown)' (every variable starts with a value)")
    let values = try parseValues()
    if decls.count == 1 {
      if values.count > 1 {
        throw MPError.syntax("one name but \(values.count) values; write a list '[...]' to bind a list", at: eq.loc)
      }
      return .letDecl(decls[0], values[0])
    }
    return .letUnpack(decls, values, start.loc)
  }

  /// values = expression { "," expression }
  mutating func parseValues() throws -> [Expr] {
    var values = [try parseExpression()]
    while match(",") { values.append(try parseExpression()) }
    return values
  }

  /// fnDecl = "fn" NAME "(" params ")" ( block | "=>" expression )
  mutating func parseFnDecl() throws -> Stmt {
    let start = next()
    let (name, loc) = try expectName("a function name after 'fn'")
    let fn = try parseFunctionRest(name: name, start: start.loc)
    return .fnDecl(Decl(name, loc), fn)
  }

  /// params = [ param { "," param } [ "," ] ] ; param = NAME [ "=" expression ]
  /// Then a block, or "=>" expression for the short form.
  mutating func parseFunctionRest(name: String, start: SourceLocation) throws -> FnNode {
    let startIndex = offset(of: start)
    if name == "<anonymous>", case .keyword(let k) = tok.kind {
      throw error("expected a function name or '(' after 'fn', found keyword '\(k.rawValue)' (keywords cannot be names)")
    }
    let params: [Param] = try withNewlines(skipped: true) { p in
      _ = try p.expect("(", "before the parameters")
      var params: [Param] = []
      var seen = Set<String>()
      var sawDefault = false
      while !p.check(")") {
        let (pname, ploc) = try p.expectName("a parameter name")
        if seen.contains(pname) {
          throw MPError.syntax("duplicate parameter '\(pname)'", at: ploc)
        }
        seen.insert(pname)
        var def: Expr? = nil
        if p.match("=") {
          def = try p.parseExpression()
          sawDefault = true
        } else if sawDefault {
          throw MPError.syntax("parameter '\(pname)' needs a default value because an earlier one has one", at: ploc)
        }
        params.append(Param(decl: Decl(pname, ploc), defaultValue: def))
        if !p.match(",") { break }
      }
      _ = try p.expect(")", "after the parameters")
      return params
    }
    let fn: FnNode
    if match("=>") {
      let e = try parseExpression()
      fn = FnNode(name: name, params: params, body: [.ret(e, e.loc)], loc: start, isArrow: true)
    } else {
      let body = try parseBlock("to start the body of '\(name)'")
      fn = FnNode(name: name, params: params, body: body, loc: start, isArrow: false)
    }
    let endIndex = offset(of: tokens[max(pos - 1, 0)].loc) + 1
    if startIndex < endIndex, endIndex <= text.count {
      var s = ""
      s.unicodeScalars.append(contentsOf: text[startIndex..<endIndex])
      fn.sourceText = s
    }
    return fn
  }

  func offset(of loc: SourceLocation) -> Int {
    let line = loc.line - firstLine + 1
    guard line >= 1, line <= lineStarts.count else { return text.count }
    return min(lineStarts[line - 1] + loc.column - 1, text.count)
  }

  /// ifStmt = "if" expression block { "else" "if" expression block } [ "else" block ]
  mutating func parseIf() throws -> Stmt {
    _ = next()
    var arms: [(Expr, [Stmt])] = []
    let cond = try parseExpression()
    arms.append((cond, try parseBlock("after the 'if' condition")))
    var elseBody: [Stmt]? = nil
    while peekPastNewlinesIsKeyword(.else) {
      _ = next()
      if matchKeyword(.if) {
        let c = try parseExpression()
        arms.append((c, try parseBlock("after the 'else if' condition")))
      } else {
        elseBody = try parseBlock("after 'else'")
        break
      }
    }
    return .ifElse(arms, elseBody)
  }

  /// `else` may start the next line: `}` newline `else {`.
  mutating func peekPastNewlinesIsKeyword(_ k: Keyword) -> Bool {
    var i = pos
    while case .newline = tokens[i].kind { i += 1 }
    if tokens[i].isKeyword(k) {
      pos = i
      return true
    }
    return false
  }

  /// forStmt = "for" loopNames "in" expression block
  mutating func parseFor() throws -> Stmt {
    let start = next()
    let pattern = try parseLoopNames("after 'for'")
    guard matchKeyword(.in) else { throw error("expected 'in' after the loop variable, found \(tok.display)") }
    let iter = try parseExpression()
    return .forLoop(pattern, iter, try parseBlock("after the 'for' header"), start.loc)
  }

  /// loopNames = NAME { "," NAME }
  mutating func parseLoopNames(_ context: String) throws -> Pattern {
    let (n, l) = try expectName("a variable name \(context)")
    var decls = [Decl(n, l)]
    while match(",") {
      let (n2, l2) = try expectName("another variable name after ','")
      decls.append(Decl(n2, l2))
    }
    return decls.count == 1 ? .single(decls[0]) : .unpack(decls)
  }

  /// withStmt = "with" expression [ "as" NAME ] block
  mutating func parseWith() throws -> Stmt {
    let start = next()
    let e = try parseExpression()
    var d: Decl? = nil
    if matchKeyword(.as) {
      let (n, l) = try expectName("a name after 'as'")
      d = Decl(n, l)
    }
    return .with(e, d, try parseBlock("after the 'with' header"), start.loc)
  }

  /// tryStmt = "try" block ( "catch" [ NAME ] block [ "finally" block ] | "finally" block )
  /// (`finally` is contextual, like `time`: only before "{".)
  mutating func parseTry() throws -> Stmt {
    let start = next()
    let body = try parseBlock("after 'try'")
    var clause: CatchClause? = nil
    if peekPastNewlinesIsKeyword(.catch) {
      _ = next()
      var d: Decl? = nil
      if case .ident(let n) = tok.kind {
        d = Decl(n, tok.loc)
        _ = next()
      }
      clause = CatchClause(decl: d, body: try parseBlock("after 'catch'"))
    }
    var finally: [Stmt]? = nil
    if peekPastNewlinesIsFinally() {
      _ = next()
      finally = try parseBlock("after 'finally'")
    }
    if clause == nil && finally == nil {
      throw error("expected 'catch' or 'finally' after the 'try' block, found \(tok.display)")
    }
    return .tryCatch(body, clause, finally, start.loc)
  }

  /// `finally` (a name everywhere else) followed by "{", maybe on the next line.
  mutating func peekPastNewlinesIsFinally() -> Bool {
    var i = pos
    while case .newline = tokens[i].kind { i += 1 }
    if case .ident("finally") = tokens[i].kind, tokens[i + 1].isOp("{") {
      pos = i
      return true
    }
    return false
  }

  /// importStmt = "import" STRING [ "as" NAME ]
  mutating func parseImport() throws -> Stmt {
    let start = next()
    let t = tok
    guard case .string(let parts) = t.kind else {
      throw error("expected a file path in quotes after 'import', found \(t.display)")
    }
    var path = ""
    for p in parts {
      guard case .text(let s) = p else {
        throw error("an import path cannot contain '{...}' (it is read before the program runs)", at: t)
      }
      path += s
    }
    _ = next()
    var name: String
    var loc = t.loc
    if matchKeyword(.as) {
      (name, loc) = try expectName("a module name after 'as'")
    } else {
      name = String(path.split(separator: "/").last ?? "")
      if name.hasSuffix(".mp") { name.removeLast(3) }
      let valid = name.unicodeScalars.first.map { !("0"..."9").contains($0) } ?? false
        && name.unicodeScalars.allSatisfy { $0 == "_" || $0.properties.isAlphabetic || ("0"..."9").contains($0) }
      if !valid || Keyword(rawValue: name) != nil {
        throw MPError.syntax("cannot name a module after '\(path)'; add 'as NAME'", at: t.loc)
      }
    }
    return .importFile(path, Decl(name, loc), start.loc)
  }

  /// `+=` and the like: the arithmetic operator before the `=`.
  static func compoundOperator(_ o: String) -> ArithmeticOperator? {
    guard o.count >= 2, o.hasSuffix("="), o != "==", o != "!=", o != "<=", o != ">=" else { return nil }
    return ArithmeticOperator(rawValue: String(o.dropLast()))
  }

  /// assignment = target { "," target } ( "=" values | compoundOp expression )
  /// compoundOp = "+=" | "-=" | "*=" | "/=" | "//=" | "%=" | "&=" | "|=" | "^=" | "<<=" | ">>="
  mutating func parseAssignmentOrExpression() throws -> Stmt {
    let e = try parseExpression()
    if tokens[pos].isOp(",") {
      // `a, b = ...`: only an assignment may start with a list of targets.
      var targets = [try target(e, before: tokens[pos])]
      while match(",") {
        let x = try parseExpression()
        targets.append(try target(x, before: tok))
      }
      let t = tok
      guard t.isOp("=") else {
        if case .op(let o) = t.kind, Parser.compoundOperator(o) != nil {
          throw error("'\(o)' cannot update several targets at once; write one '\(o)' per target", at: t)
        }
        throw error("expected '=' after the targets 'a, b', found \(t.display)", at: t)
      }
      _ = next()
      return .assignUnpack(targets, try parseValues(), t.loc)
    }
    let t = tok
    guard case .op(let o) = t.kind, o == "=" || Parser.compoundOperator(o) != nil else { return .expr(e) }
    let tgt = try target(e, before: t)
    _ = next()
    let values = try parseValues()
    if values.count > 1 {
      throw MPError.syntax("one target but \(values.count) values; write a list '[...]' to store a list", at: t.loc)
    }
    return .assign(tgt, Parser.compoundOperator(o), values[0], t.loc)
  }

  /// target = NAME | postfix "[" expression "]" | postfix "." NAME
  /// The expression already read, as a target; `t` is the token after it.
  mutating func target(_ e: Expr, before t: Token) throws -> AssignTarget {
    let o: String
    if case .op(let x) = t.kind { o = x } else { o = "=" }
    // `(x) = 5`: the expression ends with the ')' of a parenthesised one.
    let parenthesised = pos > 0 && tokens[pos - 1].isOp(")")
    switch e {
    case .name(let r) where !parenthesised: return .name(r)
    case .index(let a, let i, let l) where !parenthesised: return .index(a, i, l)
    case .member(let a, let n, let l) where !parenthesised: return .member(a, n, l)
    case .name, .index, .member:
      throw error("cannot assign to a parenthesised expression; write the name, index or member without '(' ')'", at: t)
    case .call, .callKeywords:
      throw error("cannot assign to a function call; expected a name, index or member before '\(o)'", at: t)
    case .literal:
      throw error("cannot assign to a literal; expected a name, index or member before '\(o)'", at: t)
    case .slice:
      throw error("cannot assign to a slice; expected a name, index or member before '\(o)'", at: t)
    default:
      throw error("cannot assign to this expression; expected a name, index or member before '\(o)'", at: t)
    }
  }
}
