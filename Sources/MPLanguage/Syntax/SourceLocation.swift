/// A place in a source file: 1-based line and column (columns count
/// Unicode scalars, so a caret lines up under non-ASCII text).
///
/// A class, not a struct: compiled code captures a location in almost every
/// node and passes it to every operation that might fail; one pointer is
/// cheaper to carry than a string and two ints.
public final class SourceLocation: Hashable, @unchecked Sendable, CustomStringConvertible {
  public let file: String
  public let line: Int
  public let column: Int

  public init(file: String, line: Int, column: Int) {
    self.file = file
    self.line = line
    self.column = column
  }

  public var description: String { "\(file):\(line):\(column)" }

  public static func == (a: SourceLocation, b: SourceLocation) -> Bool {
    a === b || (a.line == b.line && a.column == b.column && a.file == b.file)
  }

  public func hash(into h: inout Hasher) {
    h.combine(file)
    h.combine(line)
    h.combine(column)
  }
}
