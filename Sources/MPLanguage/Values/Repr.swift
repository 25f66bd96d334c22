import CMPShim

/// Text forms: `str` shows strings bare, `repr` quotes them; floats print as
/// the shortest text that reads back to the same float, like Python.
extension Value {
  public var str: String {
    if case .str(let s) = self { return s }
    return repr
  }

  public var repr: String {
    var out = ""
    var seen: [ObjectIdentifier] = []
    writeRepr(&out, &seen)
    return out
  }

  func writeRepr(_ out: inout String, _ seen: inout [ObjectIdentifier]) {
    switch self {
    case .nil: out += "nil"
    case .bool(let b): out += b ? "true" : "false"
    case .int(let i): out += String(i)
    case .float(let d): out += formatFloat(d)
    case .str(let s): out += quote(s)
    case .list(let l):
      let id = ObjectIdentifier(l)
      if seen.contains(id) || seen.count > 200 {
        out += "[...]"
        return
      }
      seen.append(id)
      out += "["
      for (i, v) in l.items.enumerated() {
        if i > 0 { out += ", " }
        v.writeRepr(&out, &seen)
      }
      out += "]"
      seen.removeLast()
    case .map(let m):
      let id = ObjectIdentifier(m)
      if seen.contains(id) || seen.count > 200 {
        out += "{...}"
        return
      }
      seen.append(id)
      out += "{"
      for (i, k) in m.keys.enumerated() {
        if i > 0 { out += ", " }
        k.value.writeRepr(&out, &seen)
        out += ": "
        m.values[i].writeRepr(&out, &seen)
      }
      out += "}"
      seen.removeLast()
    case .function(let c): out += "<fn \(c.proto.name)>"
    case .builtin(let b): out += "<builtin \(b.name)>"
    case .object(let o): out += o.repr
    }
  }
}

/// A string in double quotes with escapes, as mp would read it back.
func quote(_ s: String) -> String {
  var out = "\""
  for c in s.unicodeScalars {
    switch c {
    case "\"": out += "\\\""
    case "\\": out += "\\\\"
    case "\n": out += "\\n"
    case "\t": out += "\\t"
    case "\r": out += "\\r"
    case "{": out += "\\{"
    case "}": out += "\\}"
    default:
      if c.value < 0x20 || c.value == 0x7f {
        out += "\\u{\(String(c.value, radix: 16))}"
      } else {
        out.unicodeScalars.append(c)
      }
    }
  }
  return out + "\""
}

/// Python's float repr: shortest round-trip digits, positional between 1e-4
/// and 1e16, exponent form (`1e-05`, `1e+16`) outside, `.0` on whole numbers.
public func formatFloat(_ d: Double) -> String {
  if d.isNaN { return "nan" }
  if d.isInfinite { return d < 0 ? "-inf" : "inf" }
  if d == 0 { return d.sign == .minus ? "-0.0" : "0.0" }
  // Swift's description already gives the shortest round-trip digits.
  let s = d.description
  var mantissa = s
  var exp = 0
  if let e = s.firstIndex(where: { $0 == "e" || $0 == "E" }) {
    mantissa = String(s[..<e])
    exp = Int(s[s.index(after: e)...]) ?? 0
  }
  let negative = mantissa.hasPrefix("-")
  if negative { mantissa.removeFirst() }
  // digits and the position of the decimal point within them
  var digits = ""
  var pointPos = 0
  if let dot = mantissa.firstIndex(of: ".") {
    let intPart = mantissa[..<dot]
    let frac = mantissa[mantissa.index(after: dot)...]
    digits = String(intPart) + String(frac)
    pointPos = intPart.count
  } else {
    digits = mantissa
    pointPos = mantissa.count
  }
  pointPos += exp
  // strip leading zeros
  while digits.hasPrefix("0") && digits.count > 1 {
    digits.removeFirst()
    pointPos -= 1
  }
  while digits.hasSuffix("0") && digits.count > 1 { digits.removeLast() }
  let sci = pointPos - 1  // exponent in scientific notation
  var out = negative ? "-" : ""
  if sci < -4 || sci >= 16 {
    out += String(digits.first!)
    if digits.count > 1 { out += "." + digits.dropFirst() }
    out += "e" + (sci < 0 ? "-" : "+") + (abs(sci) < 10 ? "0" : "") + String(abs(sci))
    return out
  }
  if pointPos <= 0 {
    out += "0." + String(repeating: "0", count: -pointPos) + digits
  } else if pointPos >= digits.count {
    out += digits + String(repeating: "0", count: pointPos - digits.count) + ".0"
  } else {
    let i = digits.index(digits.startIndex, offsetBy: pointPos)
    out += digits[..<i] + "." + digits[i...]
  }
  return out
}
