// swift-tools-version:6.0
import PackageDescription

let package = Package(
  name: "mp",
  platforms: [.macOS(.v13)],
  products: [
    .executable(name: "mp", targets: ["mp"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
  ],
  targets: [
    // System calls Swift cannot reach directly: variadic prctl, wait macros,
    // signal flags, snprintf for number formatting.
    .target(name: "CMPShim"),
    // The language: lexer, parser, resolver, closure compiler, values, built-ins.
    .target(
      name: "MPLanguage",
      dependencies: ["CMPShim"]
    ),
    // The command-line tool: scripts, -e, stdin, `mp test`.
    .executableTarget(
      name: "mp",
      dependencies: [
        "MPLanguage",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),
    .testTarget(name: "MPLanguageTests", dependencies: ["MPLanguage"]),
  ],
  swiftLanguageModes: [.v5]
)
