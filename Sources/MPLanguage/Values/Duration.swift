/// A duration in seconds as mp prints it in messages: `0.2 s`, `1.5 s`,
/// `30 s` — the number the user wrote, not the float arithmetic behind it
/// (a deadline's remainder reads 0.19999996000001374). Rounded to the
/// microsecond, whole numbers without `.0`. The unit is the caller's.
public func formatDuration(_ seconds: Double) -> String {
  guard seconds.isFinite else { return formatFloat(seconds) }
  let rounded = (seconds * 1_000_000).rounded() / 1_000_000
  if rounded == 0 && seconds != 0 { return formatFloat(seconds) }
  if rounded == rounded.rounded(), abs(rounded) < 1e15 { return String(Int(rounded)) }
  return formatFloat(rounded)
}
