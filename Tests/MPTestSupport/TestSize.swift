import Foundation

/// How long the long tests run. A plain `swift test` runs the quick
/// versions (fewer rounds of the same checks, for the edit-test loop);
/// `MP_TEST_FULL=1` (set by `.ci/run`) runs the full ones: the 115,000
/// fuzz programs, every round of the leak and kill tests. Both check the
/// same things; the full run only gives rare failures more chances to show.
public enum TestSize {
  public static let full = ProcessInfo.processInfo.environment["MP_TEST_FULL"] == "1"

  /// `quick` in a plain run, `full` under `MP_TEST_FULL=1`.
  public static func pick<T>(_ quick: T, _ full: T) -> T { TestSize.full ? full : quick }
}
