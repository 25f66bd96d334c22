#define _GNU_SOURCE
#include "mpalloc.h"
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>

// The small-object allocator of the mp process (see mpalloc.h for why).
// Blocks of up to MP_SMALL_MAX bytes come from size classes 16 bytes
// apart; each class carves 64 KiB runs out of one reserved region and
// keeps a free list threaded through its freed blocks. A block has no
// header: its class is the run's, in `run_class`. Everything else, and
// every pointer outside the region, is glibc's (__libc_* are its exported
// entry points), so memory from either side can be freed through `free`.
//
// Not thread-safe: it is switched on only by the mp executable, which
// never starts a thread (docs/reference.md, "Processes"); until then, and
// in any other program linking CMPShim (the test bundles), every call
// goes to glibc.

#define MP_SMALL_MAX 512
#define CLASSES (MP_SMALL_MAX / 16 + 1)
#define RUN_SHIFT 16
#define RUN_SIZE ((size_t)1 << RUN_SHIFT)
#define REGION_MAX ((size_t)1 << 32)
#define COMMIT_STEP ((size_t)4 << 20)

extern void *__libc_malloc(size_t);
extern void __libc_free(void *);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);

static uintptr_t region_base;  // 0 while switched off: no pointer is ours
static size_t region_size;
static size_t region_used;      // runs handed out
static size_t region_committed; // bytes made readable and writable
static void *free_list[CLASSES];
static char *run_next[CLASSES], *run_end[CLASSES];
static uint8_t run_class[REGION_MAX >> RUN_SHIFT];

void mp_fast_alloc_enable(void) {
  if (region_base) return;
  size_t size = REGION_MAX;
  // Under an address-space limit (ulimit -v) reserve a 32nd of it: the
  // shared arena, the 1 GiB stack and glibc's large blocks need the rest.
  struct rlimit rl;
  if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur / 32 < size) {
    size = (size_t)(rl.rlim_cur / 32) & ~(RUN_SIZE - 1);
    if (size < 64 * RUN_SIZE) return;
  }
  void *p = mmap(NULL, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) return;
  region_size = size;
  region_base = (uintptr_t)p;
}

static inline int is_ours(const void *p) {
  return (uintptr_t)p - region_base < region_size;
}

static inline size_t class_size(size_t c) { return c << 4; }

// A new run for class c, or 0 when the region is full (glibc serves the
// rest).
static __attribute__((noinline)) void *carve(size_t c) {
  if (region_used + RUN_SIZE > region_size) return NULL;
  if (region_used + RUN_SIZE > region_committed) {
    size_t step = COMMIT_STEP;
    if (region_committed + step > region_size) step = region_size - region_committed;
    if (mprotect((char *)region_base + region_committed, step, PROT_READ | PROT_WRITE) != 0) return NULL;
    region_committed += step;
  }
  char *run = (char *)region_base + region_used;
  run_class[region_used >> RUN_SHIFT] = (uint8_t)c;
  region_used += RUN_SIZE;
  size_t sz = class_size(c);
  run_next[c] = run + sz;
  run_end[c] = run + RUN_SIZE - RUN_SIZE % sz;
  return run;
}

static inline void *small_alloc(size_t n) {
  size_t c = n ? (n + 15) >> 4 : 1;
  void *p = free_list[c];
  if (__builtin_expect(p != NULL, 1)) {
    free_list[c] = *(void **)p;
    return p;
  }
  char *q = run_next[c];
  if (q && q < run_end[c]) {
    run_next[c] = q + class_size(c);
    return q;
  }
  return carve(c);
}

static inline size_t ours_size(const void *p) {
  return class_size(run_class[((uintptr_t)p - region_base) >> RUN_SHIFT]);
}

// The entry points are named __wrap_*: the mp executable is linked
// statically (Package.swift), where glibc's own malloc, free and realloc
// are in the link too (its __libc_* entry points, which these call, are
// in the same object), and `--wrap` sends every call to malloc, free...
// from any object (the Swift runtime's, libc's own) here. In a dynamic
// link, the weak aliases below replace glibc's functions instead.
void *__wrap_malloc(size_t n) {
  if (n <= MP_SMALL_MAX && region_base) {
    void *p = small_alloc(n);
    if (p) return p;
  }
  return __libc_malloc(n);
}

void __wrap_free(void *p) {
  if (is_ours(p)) {
    size_t c = run_class[((uintptr_t)p - region_base) >> RUN_SHIFT];
    *(void **)p = free_list[c];
    free_list[c] = p;
    return;
  }
  __libc_free(p);
}

void *__wrap_calloc(size_t a, size_t b) {
  size_t n;
  if (__builtin_mul_overflow(a, b, &n)) {
    errno = ENOMEM;
    return NULL;
  }
  if (n <= MP_SMALL_MAX && region_base) {
    void *p = small_alloc(n);
    if (p) return memset(p, 0, n ? (n + 15) & ~(size_t)15 : 16);  // the whole block, as its usable size says
  }
  return __libc_calloc(a, b);
}

void *__wrap_realloc(void *p, size_t n) {
  if (!is_ours(p)) return __libc_realloc(p, n);
  if (n == 0) {
    __wrap_free(p);
    return NULL;
  }
  size_t have = ours_size(p);
  if (n <= have) return p;
  void *q = __wrap_malloc(n);
  if (!q) return NULL;
  memcpy(q, p, have);
  __wrap_free(p);
  return q;
}

void *__wrap_reallocarray(void *p, size_t a, size_t b) {
  size_t n;
  if (__builtin_mul_overflow(a, b, &n)) {
    errno = ENOMEM;
    return NULL;
  }
  return __wrap_realloc(p, n);
}

// glibc's, for its own blocks: the internal name in a static link (where
// malloc_usable_size would come back here), the next library's otherwise.
extern size_t __malloc_usable_size(void *) __attribute__((weak));

size_t __wrap_malloc_usable_size(void *p) {
  if (!p) return 0;
  if (is_ours(p)) return ours_size(p);
  if (__malloc_usable_size) return __malloc_usable_size(p);
  static size_t (*libc_usable_size)(void *);
  if (!libc_usable_size) libc_usable_size = (size_t (*)(void *))dlsym(RTLD_NEXT, "malloc_usable_size");
  return libc_usable_size ? libc_usable_size(p) : 0;
}

void *malloc(size_t) __attribute__((weak, alias("__wrap_malloc")));
void free(void *) __attribute__((weak, alias("__wrap_free")));
void *calloc(size_t, size_t) __attribute__((weak, alias("__wrap_calloc")));
void *realloc(void *, size_t) __attribute__((weak, alias("__wrap_realloc")));
void *reallocarray(void *, size_t, size_t) __attribute__((weak, alias("__wrap_reallocarray")));
size_t malloc_usable_size(void *) __attribute__((weak, alias("__wrap_malloc_usable_size")));
