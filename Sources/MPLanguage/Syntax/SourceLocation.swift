/// A place in a source file: 1-based line and column (columns count
/// Unicode scalars, so a caret lines up under non-ASCII text).
public struct SourceLocation: Equatable, Hashable, Sendable, CustomStringConvertible {
  public var file: String
  public var line: Int
  public var column: Int

  public init(file: String, line: Int, column: Int) {
    self.file = file
    self.line = line
    self.column = column
  }

  public var description: String { "\(file):\(line):\(column)" }
}
