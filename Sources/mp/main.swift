import MPLanguage
import Glibc

let interp = Interpreter(mainFile: "<main>")
let args = CommandLine.arguments
if args.count > 2 && args[1] == "-e" {
  do {
    try interp.runEntry(args[2], file: "<-e>")
  } catch let e as MPError {
    writeAll(2, e.render())
    exit(1)
  }
} else if args.count > 1 {
  guard let text = Interpreter.readFile(args[1]) else { writeAll(2, "cannot read \(args[1])\n"); exit(2) }
  do {
    try interp.runMain(source: text, file: args[1])
  } catch let e as MPError {
    writeAll(2, e.render())
    exit(e.kind == "syntax" ? 2 : 1)
  }
}
