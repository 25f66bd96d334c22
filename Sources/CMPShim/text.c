#define _GNU_SOURCE
#include "mptext.h"
#include <string.h>
#include <stdbool.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

// In the Swift runtime, linked into every mp binary (C calling convention).
extern bool swift_isUniquelyReferenced_nonNull_native(const void *object);

int mp_is_uniquely_referenced(void *p) {
  return swift_isUniquelyReferenced_nonNull_native(p);
}

// The first occurrence of a needle of 2 or more bytes: 32 positions at a
// time, those whose first and last bytes both match are compared in full
// (the filter of Muła's "SIMD-friendly substring search"). glibc's memmem
// takes the rest when comparisons found nothing too often (a needle whose
// two ends are common in the text), so the search stays linear.
static const uint8_t *find_long(const uint8_t *hay, size_t n, const uint8_t *needle, size_t m) {
  size_t i = 0;
#ifdef __SSE2__
  const __m128i first = _mm_set1_epi8((char)needle[0]);
  const __m128i last = _mm_set1_epi8((char)needle[m - 1]);
  size_t wasted = 0;
  while (i + m - 1 + 32 <= n) {
    const uint8_t *p = hay + i;
    __m128i a0 = _mm_loadu_si128((const __m128i *)p);
    __m128i a1 = _mm_loadu_si128((const __m128i *)(p + 16));
    __m128i b0 = _mm_loadu_si128((const __m128i *)(p + m - 1));
    __m128i b1 = _mm_loadu_si128((const __m128i *)(p + m - 1 + 16));
    unsigned lo = (unsigned)_mm_movemask_epi8(_mm_and_si128(_mm_cmpeq_epi8(a0, first), _mm_cmpeq_epi8(b0, last)));
    unsigned hi = (unsigned)_mm_movemask_epi8(_mm_and_si128(_mm_cmpeq_epi8(a1, first), _mm_cmpeq_epi8(b1, last)));
    uint32_t mask = lo | (hi << 16);
    while (mask) {
      unsigned k = (unsigned)__builtin_ctz(mask);
      if (m <= 2 || memcmp(p + k + 1, needle + 1, m - 2) == 0) return p + k;
      wasted += m;
      mask &= mask - 1;
    }
    i += 32;
    if (wasted > 2 * i + 4096) break;
  }
#endif
  return memmem(hay + i, n - i, needle, m);
}

const uint8_t *mp_memmem(const uint8_t *hay, size_t n, const uint8_t *needle, size_t m) {
  if (m == 0) return hay;
  if (m > n) return NULL;
  if (m == 1) return memchr(hay, needle[0], n);
  return find_long(hay, n, needle, m);
}

size_t mp_count_byte(const uint8_t *p, size_t n, uint8_t b) {
  // Counted in blocks whose partial sums fit a byte, so the inner loop
  // vectorises to byte compares and adds.
  size_t total = 0, i = 0;
  while (i + 255 <= n) {
    uint8_t c = 0;
    for (size_t j = 0; j < 255; j++) c += p[i + j] == b;
    total += c;
    i += 255;
  }
  for (; i < n; i++) total += p[i] == b;
  return total;
}

size_t mp_count_scalars(const uint8_t *p, size_t n) {
  size_t total = 0, i = 0;
  while (i + 255 <= n) {
    uint8_t c = 0;
    for (size_t j = 0; j < 255; j++) c += (p[i + j] & 0xC0) != 0x80;
    total += c;
    i += 255;
  }
  for (; i < n; i++) total += (p[i] & 0xC0) != 0x80;
  return total;
}

int mp_is_ascii(const uint8_t *p, size_t n) {
  return mp_first_non_ascii(p, n) == n;
}

size_t mp_first_non_ascii(const uint8_t *p, size_t n) {
  size_t i = 0;
  while (i + 64 <= n) {
    uint8_t any = 0;
    for (size_t j = 0; j < 64; j++) any |= p[i + j];
    if (any & 0x80) break;
    i += 64;
  }
  for (; i < n; i++) if (p[i] & 0x80) return i;
  return n;
}

void mp_replace_byte(uint8_t *dst, const uint8_t *src, size_t n, uint8_t a, uint8_t b) {
  for (size_t i = 0; i < n; i++) dst[i] = src[i] == a ? b : src[i];
}

static inline int may_break(uint8_t b) {
  return (uint8_t)(b - 0x0A) <= 3 || (uint8_t)(b - 0x1C) <= 2 || b == 0xC2 || b == 0xE2;
}

size_t mp_find_line_break(const uint8_t *p, size_t n) {
  size_t i = 0;
#ifdef __SSE2__
  // 16 bytes at a time; the mask of candidates gives the first one
  // directly (lines are short: most calls end in the first few blocks).
  const __m128i zero = _mm_setzero_si128();
  const __m128i c0a = _mm_set1_epi8(0x0A), c1c = _mm_set1_epi8(0x1C);
  const __m128i three = _mm_set1_epi8(3), two = _mm_set1_epi8(2);
  const __m128i cc2 = _mm_set1_epi8((char)0xC2), ce2 = _mm_set1_epi8((char)0xE2);
  for (; i + 16 <= n; i += 16) {
    __m128i v = _mm_loadu_si128((const __m128i *)(p + i));
    // (v - 0x0A) <= 3 unsigned: the saturating subtraction of 3 leaves 0.
    __m128i r = _mm_cmpeq_epi8(_mm_subs_epu8(_mm_sub_epi8(v, c0a), three), zero);
    r = _mm_or_si128(r, _mm_cmpeq_epi8(_mm_subs_epu8(_mm_sub_epi8(v, c1c), two), zero));
    r = _mm_or_si128(r, _mm_or_si128(_mm_cmpeq_epi8(v, cc2), _mm_cmpeq_epi8(v, ce2)));
    unsigned mask = (unsigned)_mm_movemask_epi8(r);
    if (mask) return i + (size_t)__builtin_ctz(mask);
  }
#endif
  for (; i < n; i++) if (may_break(p[i])) return i;
  return n;
}
