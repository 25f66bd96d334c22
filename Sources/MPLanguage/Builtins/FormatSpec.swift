import CMPShim

/// Python's format-spec mini-language for the common cases:
/// `[[fill]align][sign][0][width][,][.precision][type]`, types `f e g d x o b % s`.
enum FormatSpec {
  struct Parsed {
    var fill: Character = " "
    var align: Character? = nil
    var sign: Character = "-"
    var zero = false
    var width = 0
    var grouping = false
    var precision: Int? = nil
    var type: Character? = nil
  }

  static func parse(_ spec: String) -> Parsed? {
    var p = Parsed()
    var chars = Array(spec)
    var i = 0
    let aligns: Set<Character> = ["<", ">", "^", "="]
    if chars.count >= 2, aligns.contains(chars[1]) {
      p.fill = chars[0]
      p.align = chars[1]
      i = 2
    } else if let c = chars.first, aligns.contains(c) {
      p.align = c
      i = 1
    }
    if i < chars.count, "+- ".contains(chars[i]) {
      p.sign = chars[i]
      i += 1
    }
    if i < chars.count, chars[i] == "0" {
      p.zero = true
      i += 1
    }
    var w = ""
    while i < chars.count, chars[i].isASCII, chars[i].isNumber {
      w.append(chars[i])
      i += 1
    }
    if !w.isEmpty {
      guard let v = Int(w), v <= 1000 else { return nil }
      p.width = v
    }
    if i < chars.count, chars[i] == "," || chars[i] == "_" {
      p.grouping = true
      i += 1
    }
    if i < chars.count, chars[i] == "." {
      i += 1
      var d = ""
      while i < chars.count, chars[i].isASCII, chars[i].isNumber {
        d.append(chars[i])
        i += 1
      }
      guard let v = Int(d), v <= 100 else { return nil }
      p.precision = v
    }
    if i < chars.count {
      guard "fFeEgGdxXobs%n".contains(chars[i]) else { return nil }
      p.type = chars[i]
      i += 1
    }
    chars = []
    return i == spec.count ? p : nil
  }

  static func validate(_ spec: String, at loc: SourceLocation) throws {
    if parse(spec) == nil {
      throw MPError.syntax("invalid format spec '\(spec)' (expected [[fill]align][sign][0][width][,][.precision][type])", at: loc)
    }
  }

  static func apply(_ spec: String, to v: Value, at loc: SourceLocation) throws -> String {
    guard let p = parse(spec) else {
      throw MPError(.value, "invalid format spec '\(spec)'", at: loc)
    }
    var body: String
    var negative = false
    var numeric = true
    switch (p.type, v) {
    case (nil, .str(let s)), ("s", .str(let s)):
      body = p.precision.map { String(s.prefix($0)) } ?? s
      numeric = false
    case ("s", _):
      body = v.str
      numeric = false
    case (_, .int(let i)) where p.type == nil || p.type == "d" || p.type == "n" || "xXob".contains(p.type!):
      negative = i < 0
      let m = i.magnitude
      switch p.type {
      case "x": body = String(m, radix: 16)
      case "X": body = String(m, radix: 16).uppercased()
      case "o": body = String(m, radix: 8)
      case "b": body = String(m, radix: 2)
      default: body = String(m)
      }
      if p.grouping, p.type == nil || p.type == "d" { body = group(body) }
    case (.some, .int), (.some, .float), (.some, .bool):
      var d: Double
      switch v {
      case .int(let i): d = Double(i)
      case .float(let f): d = f
      case .bool(let b): d = b ? 1 : 0
      default: d = 0
      }
      guard let t = p.type, "fFeEgG%".contains(t) else {
        throw MPError(.value, "format '\(p.type.map(String.init) ?? "")' needs an int, found \(v.typeName)", at: loc)
      }
      if t == "%" { d *= 100 }
      negative = d < 0 || (d == 0 && d.sign == .minus)
      d = abs(d)
      let conv: Character = t == "%" ? "f" : (t == "F" ? "f" : t)
      body = cFormat(d, precision: p.precision ?? 6, conv: conv)
      if p.grouping, conv == "f" {
        let parts = body.split(separator: ".", maxSplits: 1)
        body = group(String(parts[0])) + (parts.count > 1 ? "." + parts[1] : "")
      }
      if t == "%" { body += "%" }
    case (nil, .float(let d)):
      // Python's general format: at least one digit after the point when
      // no precision is given, like str().
      negative = d < 0 || (d == 0 && d.sign == .minus)
      if let prec = p.precision {
        body = cFormat(abs(d), precision: max(prec, 1), conv: "g")
        if !body.contains(".") && !body.contains("e") && !body.contains("n") { body += ".0" }
      } else {
        body = formatFloat(abs(d))
      }
    case (nil, .bool(let b)):
      body = b ? "true" : "false"
      numeric = false
    default:
      body = v.str
      numeric = false
    }
    var signText = ""
    if numeric {
      if negative { signText = "-" } else if p.sign == "+" { signText = "+" } else if p.sign == " " { signText = " " }
    }
    let total = signText.count + body.count
    guard total < p.width else { return signText + body }
    let padCount = p.width - total
    if p.zero && p.align == nil && numeric {
      return signText + String(repeating: "0", count: padCount) + body
    }
    let fill = String(p.fill)
    switch p.align ?? (numeric ? ">" : "<") {
    case "<": return signText + body + String(repeating: fill, count: padCount)
    case "^":
      let left = padCount / 2
      return String(repeating: fill, count: left) + signText + body + String(repeating: fill, count: padCount - left)
    case "=": return signText + String(repeating: fill, count: padCount) + body
    default: return String(repeating: fill, count: padCount) + signText + body
    }
  }

  static func cFormat(_ d: Double, precision: Int, conv: Character) -> String {
    var buf = [CChar](repeating: 0, count: 512)
    let c = CChar(conv.asciiValue ?? 102)
    let n = mp_format_double(&buf, 512, Int32(precision), c, d)
    if n >= 512 {
      buf = [CChar](repeating: 0, count: Int(n) + 1)
      _ = mp_format_double(&buf, Int(n) + 1, Int32(precision), c, d)
    }
    return String(cString: buf)
  }

  static func group(_ digits: String) -> String {
    var out = ""
    for (i, c) in digits.reversed().enumerated() {
      if i > 0 && i % 3 == 0 { out.append(",") }
      out.append(c)
    }
    return String(out.reversed())
  }
}
