#define _GNU_SOURCE
#include "mptext.h"
#include <string.h>
#include <stdbool.h>
#ifdef __SSE2__
#include <emmintrin.h>
#include <immintrin.h>
#include <cpuid.h>
#endif

// In the Swift runtime, linked into every mp binary (C calling convention).
extern bool swift_isUniquelyReferenced_nonNull_native(const void *object);

int mp_string_append_in_place = 0;
int mp_small_strings_in_place = 0;

int mp_is_uniquely_referenced(void *p) {
  return swift_isUniquelyReferenced_nonNull_native(p);
}

#ifdef __SSE2__
/* Of the 32 positions from p, those where a needle of m bytes could start:
   its first byte at the position and its last m - 1 bytes further. */
static inline uint32_t candidates(const uint8_t *p, size_t m, __m128i first, __m128i last) {
  __m128i a0 = _mm_loadu_si128((const __m128i *)p);
  __m128i a1 = _mm_loadu_si128((const __m128i *)(p + 16));
  __m128i b0 = _mm_loadu_si128((const __m128i *)(p + m - 1));
  __m128i b1 = _mm_loadu_si128((const __m128i *)(p + m - 1 + 16));
  unsigned lo = (unsigned)_mm_movemask_epi8(_mm_and_si128(_mm_cmpeq_epi8(a0, first), _mm_cmpeq_epi8(b0, last)));
  unsigned hi = (unsigned)_mm_movemask_epi8(_mm_and_si128(_mm_cmpeq_epi8(a1, first), _mm_cmpeq_epi8(b1, last)));
  return lo | (hi << 16);
}
#endif

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
    uint32_t mask = candidates(p, m, first, last);
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

size_t mp_count_sub(const uint8_t *hay, size_t n, const uint8_t *needle, size_t m) {
  if (m == 0 || m > n) return 0;
  if (m == 1) return mp_count_byte(hay, n, needle[0]);
  size_t count = 0, i = 0;
#ifdef __SSE2__
  // The filter of find_long, counting in place: a match at k moves the
  // scan to k + m (matches do not overlap, as in Python), dropping the
  // block's candidates before it. Many short matches (a word in every
  // line) cost a call each through mp_memmem.
  const __m128i first = _mm_set1_epi8((char)needle[0]);
  const __m128i last = _mm_set1_epi8((char)needle[m - 1]);
  size_t wasted = 0;
  while (i + m - 1 + 32 <= n) {
    const uint8_t *p = hay + i;
    uint32_t mask = candidates(p, m, first, last);
    size_t next = i + 32;
    while (mask) {
      unsigned k = (unsigned)__builtin_ctz(mask);
      size_t j = 1;
      while (j + 1 < m && p[k + j] == needle[j]) j++;
      if (j + 1 >= m) {
        count++;
        if (k + m >= 32) {
          next = i + k + m;
          break;
        }
        mask &= ~((2u << (k + m - 1)) - 1);  // the bits below k + m
        continue;
      }
      wasted += j;
      mask &= mask - 1;
    }
    i = next;
    if (wasted > 2 * i + 4096) break;
  }
#endif
  const uint8_t *r;
  while (i < n && (r = memmem(hay + i, n - i, needle, m)) != NULL) {
    count++;
    i = (size_t)(r - hay) + m;
  }
  return count;
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
  // Eight bytes at a time, the last eight overlapping (short pieces: the
  // lines and fields cut from a text).
  if (n >= 8) {
    uint64_t any = 0, w;
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
      for (size_t j = 0; j < 64; j += 8) {
        memcpy(&w, p + i + j, 8);
        any |= w;
      }
      if (any & 0x8080808080808080ull) return 0;
    }
    for (; i + 8 <= n; i += 8) {
      memcpy(&w, p + i, 8);
      any |= w;
    }
    memcpy(&w, p + n - 8, 8);
    return ((any | w) & 0x8080808080808080ull) == 0;
  }
  for (size_t i = 0; i < n; i++) if (p[i] & 0x80) return 0;
  return 1;
}

void mp_replace_byte(uint8_t *dst, const uint8_t *src, size_t n, uint8_t a, uint8_t b) {
  for (size_t i = 0; i < n; i++) dst[i] = src[i] == a ? b : src[i];
}

static inline int may_break(uint8_t b) {
  return (uint8_t)(b - 0x0A) <= 3 || (uint8_t)(b - 0x1C) <= 2 || b == 0xC2 || b == 0xE2;
}

#ifdef __SSE2__
// The bytes of p[0..<16] at or below 0x1E or equal to 0xC2 or 0xE2, as a
// mask: a superset of the bytes that may start a break (tabs and other
// controls pass too; the caller looks at each).
static inline uint64_t break_mask16(const uint8_t *p) {
  const __m128i c1e = _mm_set1_epi8(0x1E);
  const __m128i cc2 = _mm_set1_epi8((char)0xC2), ce2 = _mm_set1_epi8((char)0xE2);
  __m128i v = _mm_loadu_si128((const __m128i *)p);
  __m128i r = _mm_cmpeq_epi8(_mm_min_epu8(v, c1e), v);
  r = _mm_or_si128(r, _mm_or_si128(_mm_cmpeq_epi8(v, cc2), _mm_cmpeq_epi8(v, ce2)));
  return (uint64_t)(unsigned)_mm_movemask_epi8(r);
}
#endif

size_t mp_line_break_candidates(const uint8_t *p, size_t n, size_t from, size_t *out, size_t cap, size_t *next) {
  size_t i = from, k = 0;
#ifdef __SSE2__
  // 64 bytes at a time, taken only when all 64 candidates would fit.
  for (; i + 64 <= n && k + 64 <= cap; i += 64) {
    uint64_t mask = break_mask16(p + i) | break_mask16(p + i + 16) << 16 |
                    break_mask16(p + i + 32) << 32 | break_mask16(p + i + 48) << 48;
    while (mask) {
      out[k++] = i + (size_t)__builtin_ctzll(mask);
      mask &= mask - 1;
    }
  }
  if (i + 64 <= n) {
    *next = i;
    return k;
  }
#endif
  for (; i < n && k < cap; i++) if (may_break(p[i])) out[k++] = i;
  *next = i;
  return k;
}

#ifdef __SSE2__
// The continuation bytes (10xxxxxx: -128..-65 as signed) of p[0..<16], as a mask.
static inline uint64_t continuation_mask16(const uint8_t *p) {
  __m128i v = _mm_loadu_si128((const __m128i *)p);
  return (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmplt_epi8(v, _mm_set1_epi8((char)0xC0)));
}
#endif

// Each byte of x replaced by the number of its bits that are set (SWAR: no
// popcnt instruction in the x86-64 baseline).
static inline uint64_t byte_popcounts(uint64_t x) {
  x = x - ((x >> 1) & 0x5555555555555555ull);
  x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
  return (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0Full;
}

size_t mp_scalar_marks_portable(const uint8_t *p, size_t from, size_t n, size_t *count, size_t *marks) {
  size_t k = *count, i = from, w = 0;
#ifdef __SSE2__
  // 64 bytes at a time: their scalar starts as a mask; the next mark (scalar
  // number k + need) falls in this block when it has more than `need` starts,
  // and at most one does (a block has at most 64).
  for (; i + 64 <= n; i += 64) {
    uint64_t starts = ~(continuation_mask16(p + i) | continuation_mask16(p + i + 16) << 16 |
                        continuation_mask16(p + i + 32) << 32 | continuation_mask16(p + i + 48) << 48);
    // Byte b of `upto` counts the starts in bytes 0...b of the mask.
    uint64_t upto = byte_popcounts(starts) * 0x0101010101010101ull;
    size_t c = (size_t)(upto >> 56);
    size_t need = (64 - (k & 63)) & 63;
    if (need < c) {
      // The first byte holding more than `need` starts (bit 7 stays set
      // where count + 128 - (need + 1) >= 128; no borrow crosses bytes),
      // then the start within it.
      uint64_t past = ((upto | 0x8080808080808080ull) - (need + 1) * 0x0101010101010101ull) & 0x8080808080808080ull;
      unsigned byte = (unsigned)__builtin_ctzll(past) >> 3;
      size_t before = byte ? (size_t)(upto >> (8 * (byte - 1))) & 0xFF : 0;
      uint64_t x = (starts >> (8 * byte)) & 0xFF;
      for (size_t j = need - before; j; j--) x &= x - 1;
      marks[w++] = i + 8 * byte + (size_t)__builtin_ctzll(x);
    }
    k += c;
  }
#endif
  for (; i < n; i++) {
    if ((p[i] & 0xC0) != 0x80) {
      if ((k & 63) == 0) marks[w++] = i;
      k++;
    }
  }
  *count = k;
  return w;
}

#ifdef __SSE2__
// The same with the popcnt and pdep instructions, where they are fast.
__attribute__((target("popcnt,bmi,bmi2")))
static size_t scalar_marks_bmi2(const uint8_t *p, size_t from, size_t n, size_t *count, size_t *marks) {
  size_t k = *count, i = from, w = 0;
  for (; i + 64 <= n; i += 64) {
    uint64_t starts = ~(continuation_mask16(p + i) | continuation_mask16(p + i + 16) << 16 |
                        continuation_mask16(p + i + 32) << 32 | continuation_mask16(p + i + 48) << 48);
    size_t c = (size_t)__builtin_popcountll(starts);
    size_t need = (64 - (k & 63)) & 63;
    if (need < c) marks[w++] = i + (size_t)__builtin_ctzll(_pdep_u64(1ull << need, starts));
    k += c;
  }
  for (; i < n; i++) {
    if ((p[i] & 0xC0) != 0x80) {
      if ((k & 63) == 0) marks[w++] = i;
      k++;
    }
  }
  *count = k;
  return w;
}

// popcnt and BMI2 present, and pdep not microcoded (AMD before Zen 3,
// family 0x19, ran it in hundreds of cycles).
static int fast_bit_ops(void) {
  static int known = -1;
  if (known >= 0) return known;
  unsigned a, b, c, d, vendor_b;
  int ok = 0;
  if (__get_cpuid(0, &a, &vendor_b, &c, &d) && a >= 7 && __get_cpuid(1, &a, &b, &c, &d) && (c & bit_POPCNT)) {
    unsigned family = ((a >> 8) & 0xF) + ((a >> 20) & 0xFF);
    int amd = vendor_b == 0x68747541;  // "Auth"enticAMD
    unsigned b7, c7, d7, a7;
    if (__get_cpuid_count(7, 0, &a7, &b7, &c7, &d7) && (b7 & bit_BMI) && (b7 & bit_BMI2)) ok = !amd || family >= 0x19;
  }
  known = ok;
  return ok;
}
#endif

size_t mp_scalar_marks(const uint8_t *p, size_t from, size_t n, size_t *count, size_t *marks) {
#ifdef __SSE2__
  if (fast_bit_ops()) return scalar_marks_bmi2(p, from, n, count, marks);
#endif
  return mp_scalar_marks_portable(p, from, n, count, marks);
}
