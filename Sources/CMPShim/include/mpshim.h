#ifndef MPSHIM_H
#define MPSHIM_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "mptext.h"

/// Set by the SIGINT handler; polled by loops, calls and blocking waits.
extern volatile int mp_interrupt_flag;
/// The interpreter's call limit (the address a frame must end below to be
/// entered without checks); the SIGINT handler sets it to 0.
extern volatile uintptr_t *mp_call_limit;

/// Installs a SIGINT handler (no SA_RESTART) that only sets mp_interrupt_flag.
int mp_install_sigint(void);
/// Restores the default SIGINT disposition (used in forked children before exit paths).
void mp_default_sigint(void);

/// Current stack pointer, for recursion bounds measured in bytes.
uintptr_t mp_stack_pointer(void);

/// prctl(PR_SET_PDEATHSIG, sig): the child dies with its parent.
int mp_set_pdeathsig(int sig);
/// prctl(PR_SET_CHILD_SUBREAPER): orphaned descendants are reparented here, to be reaped.
int mp_set_child_subreaper(void);

int mp_wifexited(int status);
int mp_wexitstatus(int status);
int mp_wifsignaled(int status);
int mp_wtermsig(int status);

/// snprintf(buf, n, "%.*<conv>", prec, x); conv is one of f e g E G.
int mp_format_double(char *buf, size_t n, int prec, char conv, double x);
/// snprintf with "%.17g" — used to find the shortest round-trip float text.
int mp_format_double_g(char *buf, size_t n, int prec, double x);

/* Atomics on shared memory (the arena): sequentially consistent. */
int64_t mp_atomic_load(const volatile int64_t *p);
void mp_atomic_store(volatile int64_t *p, int64_t v);
int64_t mp_atomic_add(volatile int64_t *p, int64_t delta); /* returns the new value */
int mp_atomic_cas(volatile int64_t *p, int64_t expected, int64_t desired);
/* Inline, so Swift callers (a lock's owner word at every acquire and
   release) pay no function call around the one instruction. */
static inline int32_t mp_atomic_load32(const volatile int32_t *p) { return __atomic_load_n(p, __ATOMIC_SEQ_CST); }
static inline void mp_atomic_store32(volatile int32_t *p, int32_t v) { __atomic_store_n(p, v, __ATOMIC_SEQ_CST); }
/* A release store: a plain move on x86, where the sequentially consistent
   one is an xchg (~20 cycles). For words written under a mutex, which
   orders them for the next holder anyway (a lock's owner pid). */
static inline void mp_atomic_store32_release(volatile int32_t *p, int32_t v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }
int mp_atomic_cas32(volatile int32_t *p, int32_t expected, int32_t desired);
int32_t mp_atomic_add32(volatile int32_t *p, int32_t delta);

/* Inlined into Swift (no call): the orders a single-writer word needs. A
   word published with mp_store_release is read with mp_load_acquire; a
   plain store on x86, but it keeps the compiler from moving the stores
   that the word publishes after it. */
static inline int64_t mp_load_acquire(const volatile int64_t *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
static inline void mp_store_release(volatile int64_t *p, int64_t v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }
static inline int32_t mp_load_acquire32(const volatile int32_t *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
static inline void mp_store_release32(volatile int32_t *p, int32_t v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }
/* A store the compiler keeps before every later memory access: a "this
   structure is being changed" mark that must reach memory before the
   change does (a process may be killed between any two instructions, and
   the next process reads what it left). */
static inline void mp_store_first32(volatile int32_t *p, int32_t v) {
  __atomic_store_n(p, v, __ATOMIC_RELAXED);
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
}
static inline void mp_store_first(volatile int64_t *p, int64_t v) {
  __atomic_store_n(p, v, __ATOMIC_RELAXED);
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
}
/* A full fence: a store before it is visible before any load after it
   (the "publish, then look for sleepers" step of a wake-up). */
static inline void mp_fence(void) { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
/* The spin-wait hint (PAUSE). */
static inline void mp_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ volatile("yield");
#endif
}

/* Process-shared robust mutexes (pthread_mutex_t lives in the arena). */
size_t mp_mutex_size(void);
int mp_mutex_init(void *m);
/* 0: locked; 1: locked after its previous holder died (made consistent);
   ETIMEDOUT; EINTR when mp_interrupt_flag was set while waiting; other errno. */
int mp_mutex_lock(void *m, double timeout_seconds);
int mp_mutex_trylock(void *m);
int mp_mutex_unlock(void *m);

/* futex wait/wake on a 32-bit word in shared memory.
   mp_futex_wait returns 0 (woken or value changed), ETIMEDOUT, or EINTR. */
int mp_futex_wait(volatile int32_t *addr, int32_t expected, double timeout_seconds);
int mp_futex_wake(volatile int32_t *addr, int32_t count);

/* Runs fn(arg) on a freshly mapped stack of `size` bytes (lazily touched),
   so deep mp recursion and long expressions cannot overflow the 8 MiB
   main stack. Returns when fn returns. */
void mp_run_on_stack(size_t size, void (*fn)(void *), void *arg);
/* Lowest usable address of that stack (0 when not running on it). */
extern uintptr_t mp_stack_bottom;

/* _exit through syscall(exit_group): no exit handlers in a forked child. */
__attribute__((noreturn)) void mp_exit_now(int code);

/* A child's result on its pipe: length (8 bytes, little-endian), then the
   bytes; writev, so a small one is one system call. 0, or -1 (errno). */
int mp_write_framed(int fd, const void *body, size_t n);

/* pipe2 with O_CLOEXEC. */
int mp_pipe_cloexec(int fds[2]);
/* The monotonic clock in seconds. */
double mp_now(void);

/* Where the process table and the objects it points at keep their fields,
   so a SIGUSR1 handler can describe every live process (see table_dump.c). */
struct mp_table_layout {
  const void *arena;
  const void *table;
  int entry_size, capacity;
  int pid_off, state_off, wait_kind_off, wait_target_off, name_off, name_len;
  int number_off, payload_off;
  int lock_owner_off, lock_name_off, lock_name_len;
  int queue_count_off, queue_closed_off;
  /* A queue's count is items put minus items got: two words. */
  int queue_got_off;
};
/* Installs that handler (SA_RESTART) in this process. */
/* The dump's last line: the reader knows the list is complete. */
#define MP_TABLE_DUMP_END "mp: end of the list of live processes"
void mp_install_table_dump(const struct mp_table_layout *layout);
#endif
