// swift-tools-version:6.0
import PackageDescription

let package = Package(
  name: "mp",
  products: [
    .executable(name: "mp", targets: ["mp"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
  ],
  targets: [
    // System calls Swift cannot reach directly: variadic prctl, wait macros,
    // the SIGINT flag, snprintf for number formatting.
    .target(name: "CMPShim"),
    // libedit's readline-compatible API (Debian: libedit-dev).
    .systemLibrary(
      name: "CLibEdit",
      pkgConfig: "libedit",
      providers: [.apt(["libedit-dev"])]
    ),
    // The language: lexer, parser, resolver, closure compiler, values, built-ins.
    // Release builds of the language omit frame pointers (SwiftPM asks for
    // them with -fno-omit-frame-pointer; the cc1 flag overrides it): the
    // interpreter is a tree of small closures, and the two instructions
    // and the register each one spends on %rbp were ~5% of a call (fib).
    // perf's default call graphs (-g) lose these frames' callers;
    // `perf record --call-graph dwarf` and callgrind do not.
    // They also count references without atomic instructions
    // (-assume-single-threaded): an mp process never starts a thread (it
    // forks, and a forked child has only the forking thread), and the
    // locked increment and decrement of every value copied were half the
    // time of `c = s[i]`.
    .target(
      name: "MPLanguage", dependencies: ["CMPShim"],
      swiftSettings: [.unsafeFlags(["-Xcc", "-Xclang", "-Xcc", "-mframe-pointer=none", "-Xfrontend", "-assume-single-threaded"], .when(configuration: .release))]
    ),
    // The runtime: fork, pipes, the shared arena, locks, queues, pools, the value codec.
    .target(name: "MPRuntime", dependencies: ["MPLanguage", "CMPShim"]),
    // The REPL: a line-editor seam over libedit, commands, completion.
    .target(name: "MPRepl", dependencies: ["MPLanguage", "CLibEdit", "CMPShim"]),
    // `mp test`: expectation comments and how output is matched against them.
    .target(name: "MPTesting", dependencies: ["MPLanguage"]),
    // The command-line tool.
    .executableTarget(
      name: "mp",
      dependencies: [
        "MPLanguage", "MPRuntime", "MPRepl", "MPTesting", "CMPShim",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      // A static executable: the Swift runtime, libc, libstdc++ and libedit
      // (with the libraries it needs, libtinfo, libbsd and libmd) linked in.
      // A dynamically linked Swift runtime cost ~7M instructions of symbol
      // relocation at every start. And fork copies, and exit tears down,
      // every mapping: with shared libraries mp had 68 (17 of them for the
      // REPL's line editor alone), now 17: spawn + join takes ~20% less
      // CPU (bench/README.md, "Round two, third pass"). glibc warns that
      // getpwuid and dlopen need its own shared libraries at run time: the
      // REPL asks getpwuid only when HOME is unset.
      linkerSettings: [.unsafeFlags(["-static-executable", "-Xlinker", "--wrap=malloc", "-Xlinker", "--wrap=free", "-Xlinker", "--wrap=calloc", "-Xlinker", "--wrap=realloc", "-Xlinker", "--wrap=reallocarray", "-Xlinker", "--wrap=malloc_usable_size", "-Xlinker", "-ltinfo", "-Xlinker", "-lbsd", "-Xlinker", "-lmd", "-l_FoundationCollections", "-l_FoundationCShims", "-lswiftSynchronization"])]
    ),
    // What the test targets share: finding the mp binary this run built.
    .target(name: "MPTestSupport", path: "Tests/MPTestSupport"),
    .testTarget(name: "MPLanguageTests", dependencies: ["MPLanguage", "MPTestSupport"]),
    .testTarget(name: "MPReplTests", dependencies: ["MPRepl", "MPLanguage", "MPTestSupport"]),
    .testTarget(name: "MPRuntimeTests", dependencies: ["MPRuntime", "MPLanguage", "MPTestSupport"]),
    .testTarget(name: "MPTestingTests", dependencies: ["MPTesting", "MPTestSupport"]),
  ],
  swiftLanguageModes: [.v5]
)
