#ifndef MPTEXT_H
#define MPTEXT_H
#include <stddef.h>
#include <stdint.h>

// Byte loops over UTF-8 text for the string methods: plain C so that the
// compiler vectorises them, and memmem, which Glibc only declares under
// _GNU_SOURCE.

/// The first occurrence of needle[0..<m] in hay[0..<n], or NULL (memmem;
/// hay itself for an empty needle).
const uint8_t *mp_memmem(const uint8_t *hay, size_t n, const uint8_t *needle, size_t m);
/// The number of non-overlapping occurrences of needle[0..<m] in hay[0..<n]
/// (0 for an empty needle).
size_t mp_count_sub(const uint8_t *hay, size_t n, const uint8_t *needle, size_t m);
/// The number of bytes of p[0..<n] equal to b.
size_t mp_count_byte(const uint8_t *p, size_t n, uint8_t b);
/// The number of bytes of p[0..<n] that start a UTF-8 scalar (not 10xxxxxx).
size_t mp_count_scalars(const uint8_t *p, size_t n);
/// 1 when every byte of p[0..<n] is below 0x80.
int mp_is_ascii(const uint8_t *p, size_t n);
/// The offsets of the bytes of p[from..<n] that may start a line break
/// (\n \v \f \r, \x1c-\x1e, or 0xC2 / 0xE2, which start U+0085, U+2028
/// and U+2029; and some other control bytes), in order,
/// written to out[0..<cap]: returns how many, and in *next where to go on
/// (n when done).
size_t mp_line_break_candidates(const uint8_t *p, size_t n, size_t from, size_t *out, size_t cap, size_t *next);
/// Counts the scalars of p[from..<n] on from *count (updated), writing to
/// marks the offset of every scalar whose number is a multiple of 64 (room
/// for (n - from) / 64 + 1 of them); returns how many it wrote.
size_t mp_scalar_marks(const uint8_t *p, size_t from, size_t n, size_t *count, size_t *marks);
/// The same without popcnt and pdep (what mp_scalar_marks does on CPUs
/// where they are missing or slow); for tests.
size_t mp_scalar_marks_portable(const uint8_t *p, size_t from, size_t n, size_t *count, size_t *marks);
/// Copies src to dst replacing every byte a by b (n bytes).
void mp_replace_byte(uint8_t *dst, const uint8_t *src, size_t n, uint8_t a, uint8_t b);

/// Whether nothing but its one holder refers to the Swift object at p:
/// the runtime's own test (what isKnownUniquelyReferenced calls), for an
/// object Swift code holds no reference to (a string value's box).
int mp_is_uniquely_referenced(void *p);
/// 1 once mp has checked that it may append to a string's storage in place
/// (Values/StringBits.swift, appendSmallASCII); a C global so that Swift
/// reads it without a lazy-initialisation check.
extern int mp_string_append_in_place;
/// 1 once mp has checked that it makes small strings as Swift does
/// (StringBits.small).
extern int mp_small_strings_in_place;

#endif
