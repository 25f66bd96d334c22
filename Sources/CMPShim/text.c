#define _GNU_SOURCE
#include "mptext.h"
#include <string.h>

const uint8_t *mp_memmem(const uint8_t *hay, size_t n, const uint8_t *needle, size_t m) {
  return memmem(hay, n, needle, m);
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

// Branch-free, so that the block loop below vectorises.
static inline uint8_t may_break(uint8_t b) {
  return ((uint8_t)(b - 0x0A) <= 3) | ((uint8_t)(b - 0x1C) <= 2) | (b == 0xC2) | (b == 0xE2);
}

size_t mp_find_line_break(const uint8_t *p, size_t n) {
  size_t i = 0;
  while (i + 32 <= n) {
    uint8_t any = 0;
    for (size_t j = 0; j < 32; j++) any |= may_break(p[i + j]);
    if (any) break;
    i += 32;
  }
  for (; i < n; i++) if (may_break(p[i])) return i;
  return n;
}
