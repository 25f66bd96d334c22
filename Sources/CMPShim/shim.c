#define _GNU_SOURCE
#include "mpshim.h"
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <ucontext.h>

volatile int mp_interrupt_flag = 0;
volatile uintptr_t *mp_call_limit = 0;

static void on_sigint(int sig) {
  (void)sig;
  mp_interrupt_flag = 1;
  // Calls count no ticks: a limit of 0 sends the next one to the slow
  // path, which sees the flag.
  volatile uintptr_t *limit = mp_call_limit;
  if (limit) *limit = 0;
}

int mp_install_sigint(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0; /* no SA_RESTART: blocking calls return EINTR so we can stop */
  return sigaction(SIGINT, &sa, NULL);
}

void mp_default_sigint(void) { signal(SIGINT, SIG_DFL); }

uintptr_t mp_stack_pointer(void) {
  return (uintptr_t)__builtin_frame_address(0);
}

int mp_set_pdeathsig(int sig) { return prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0); }
int mp_set_child_subreaper(void) { return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); }

int mp_wifexited(int status) { return WIFEXITED(status); }
int mp_wexitstatus(int status) { return WEXITSTATUS(status); }
int mp_wifsignaled(int status) { return WIFSIGNALED(status); }
int mp_wtermsig(int status) { return WTERMSIG(status); }

int mp_format_double(char *buf, size_t n, int prec, char conv, double x) {
  char fmt[8] = {'%', '.', '*', conv, 0};
  return snprintf(buf, n, fmt, prec, x);
}

int mp_format_double_g(char *buf, size_t n, int prec, double x) {
  return snprintf(buf, n, "%.*g", prec, x);
}

int64_t mp_atomic_load(const volatile int64_t *p) { return __atomic_load_n(p, __ATOMIC_SEQ_CST); }
void mp_atomic_store(volatile int64_t *p, int64_t v) { __atomic_store_n(p, v, __ATOMIC_SEQ_CST); }
int64_t mp_atomic_add(volatile int64_t *p, int64_t d) { return __atomic_add_fetch(p, d, __ATOMIC_SEQ_CST); }
int mp_atomic_cas(volatile int64_t *p, int64_t e, int64_t d) {
  return __atomic_compare_exchange_n(p, &e, d, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}
int mp_atomic_cas32(volatile int32_t *p, int32_t e, int32_t d) {
  return __atomic_compare_exchange_n(p, &e, d, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}
int32_t mp_atomic_add32(volatile int32_t *p, int32_t d) { return __atomic_add_fetch(p, d, __ATOMIC_SEQ_CST); }

double mp_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

size_t mp_mutex_size(void) { return sizeof(pthread_mutex_t); }

int mp_mutex_init(void *m) {
  pthread_mutexattr_t a;
  int rc = pthread_mutexattr_init(&a);
  if (rc) return rc;
  pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
  pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
  rc = pthread_mutex_init((pthread_mutex_t *)m, &a);
  pthread_mutexattr_destroy(&a);
  return rc;
}

/* Waits in slices so Ctrl-C is noticed: a robust mutex wait does not
   return EINTR by itself. */
int mp_mutex_lock(void *m, double timeout) {
  pthread_mutex_t *mu = (pthread_mutex_t *)m;
  /* The common case, a free lock, needs no clock and no timed wait. */
  int first = pthread_mutex_trylock(mu);
  if (first == 0) return 0;
  if (first == EOWNERDEAD) { pthread_mutex_consistent(mu); return 1; }
  /* Held: the internal locks are held for a few hundred nanoseconds, and
     sleeping on the futex costs a system call on each side and a wake-up
     of tens of microseconds, so watch the lock word for a while first
     (a free word or a dead owner's: no thread id in it). */
  for (int i = 0; timeout != 0 && i < 256; i++) {
    mp_cpu_relax();
    int w = __atomic_load_n(&mu->__data.__lock, __ATOMIC_RELAXED);
    if ((w & FUTEX_TID_MASK) == 0) {
      int rc = pthread_mutex_trylock(mu);
      if (rc == 0) return 0;
      if (rc == EOWNERDEAD) { pthread_mutex_consistent(mu); return 1; }
    }
  }
  double deadline = timeout < 0 ? -1 : mp_now() + timeout;
  for (;;) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    double slice = 0.05;
    if (deadline >= 0) {
      double left = deadline - mp_now();
      if (left <= 0) {
        int rc = pthread_mutex_trylock(mu);
        if (rc == EBUSY) return ETIMEDOUT;
        if (rc == EOWNERDEAD) { pthread_mutex_consistent(mu); return 1; }
        return rc;
      }
      if (left < slice) slice = left;
    }
    long ns = ts.tv_nsec + (long)(slice * 1e9);
    ts.tv_sec += ns / 1000000000L;
    ts.tv_nsec = ns % 1000000000L;
    int rc = pthread_mutex_timedlock(mu, &ts);
    if (rc == 0) return 0;
    if (rc == EOWNERDEAD) { pthread_mutex_consistent(mu); return 1; }
    if (rc != ETIMEDOUT) return rc;
    if (mp_interrupt_flag) return EINTR;
  }
}

int mp_mutex_trylock(void *m) {
  int rc = pthread_mutex_trylock((pthread_mutex_t *)m);
  if (rc == EOWNERDEAD) { pthread_mutex_consistent((pthread_mutex_t *)m); return 1; }
  return rc;
}

int mp_mutex_unlock(void *m) { return pthread_mutex_unlock((pthread_mutex_t *)m); }

int mp_futex_wait(volatile int32_t *addr, int32_t expected, double timeout) {
  struct timespec ts, *tp = NULL;
  if (timeout >= 0) {
    ts.tv_sec = (time_t)timeout;
    ts.tv_nsec = (long)((timeout - (double)ts.tv_sec) * 1e9);
    tp = &ts;
  }
  long rc = syscall(SYS_futex, addr, FUTEX_WAIT, expected, tp, NULL, 0);
  if (rc == 0) return 0;
  if (errno == EAGAIN) return 0;
  return errno;
}

int mp_futex_wake(volatile int32_t *addr, int32_t count) {
  return (int)syscall(SYS_futex, addr, FUTEX_WAKE, count, NULL, NULL, 0);
}

int mp_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

uintptr_t mp_stack_bottom = 0;
static ucontext_t mp_main_ctx, mp_big_ctx;
static void (*mp_entry_fn)(void *);
static void *mp_entry_arg;

static void mp_trampoline(void) { mp_entry_fn(mp_entry_arg); }

void mp_run_on_stack(size_t size, void (*fn)(void *), void *arg) {
  void *stk = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
  if (stk == MAP_FAILED || getcontext(&mp_big_ctx) != 0) {
    fn(arg);
    return;
  }
  mprotect(stk, 65536, PROT_NONE); /* a guard region below the stack */
  mp_big_ctx.uc_stack.ss_sp = stk;
  mp_big_ctx.uc_stack.ss_size = size;
  mp_big_ctx.uc_link = &mp_main_ctx;
  mp_entry_fn = fn;
  mp_entry_arg = arg;
  makecontext(&mp_big_ctx, mp_trampoline, 0);
  mp_stack_bottom = (uintptr_t)stk + 65536;
  swapcontext(&mp_main_ctx, &mp_big_ctx);
  mp_stack_bottom = 0;
}

void mp_exit_now(int code) {
  syscall(SYS_exit_group, code);
  _exit(code); /* not reached */
}

/* A child's result: its length (8 bytes, little-endian), then the bytes,
   in one writev when the pipe takes them at once. 0, or -1 (errno). */
int mp_write_framed(int fd, const void *body, size_t n) {
  uint64_t len = (uint64_t)n;
  size_t done = 0, total = 8 + n;
  while (done < total) {
    ssize_t w;
    if (done < 8) {
      struct iovec rest[2] = {{(char *)&len + done, 8 - done}, {(void *)body, n}};
      w = writev(fd, rest, n ? 2 : 1);
    } else {
      w = write(fd, (const char *)body + (done - 8), total - done);
    }
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    done += (size_t)w;
  }
  return 0;
}
