/* The C limits beside mp's concurrency benchmarks (bench/run compiles this
 * with cc -O2 and runs it once per invocation).
 *
 * Each line printed is "key value unit  # what": bench/run shows the value
 * beside the mp row it bounds. Everything is timed in-process with
 * CLOCK_MONOTONIC; figures are the best of a few repetitions, since the
 * machine is shared.
 *
 *   cc -O2 -o /tmp/climits bench/programs/climits.c -lpthread && /tmp/climits
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int ncpu;

/* cpu < 0: leave the affinity alone (the scheduler decides). */
static void pin(int cpu) {
  if (cpu < 0 || ncpu < 2) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu % ncpu, &set);
  sched_setaffinity(0, sizeof set, &set);
}

static void unpin(void) {
  cpu_set_t set;
  CPU_ZERO(&set);
  for (int i = 0; i < ncpu; i++) CPU_SET(i, &set);
  sched_setaffinity(0, sizeof set, &set);
}

static void *shared_map(size_t n) {
  void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) { perror("mmap"); exit(1); }
  return p;
}

static void full_write(int fd, const void *buf, size_t n) {
  const char *p = buf;
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) { if (errno == EINTR) continue; perror("write"); exit(1); }
    p += w; n -= (size_t)w;
  }
}

static void full_read(int fd, void *buf, size_t n) {
  char *p = buf;
  while (n > 0) {
    ssize_t r = read(fd, p, n);
    if (r < 0) { if (errno == EINTR) continue; perror("read"); exit(1); }
    if (r == 0) { fprintf(stderr, "unexpected EOF\n"); exit(1); }
    p += r; n -= (size_t)r;
  }
}

static double best(double a, double b) { return a < b ? a : b; }

/* ---- fork + _exit + waitpid, like spawn + join of a function that does nothing */
static double fork_cost(int n) {
  double t = now();
  for (int i = 0; i < n; i++) {
    pid_t p = fork();
    if (p == 0) _exit(0);
    waitpid(p, NULL, 0);
  }
  return (now() - t) / n;
}

/* ---- ping-pong round trips between two processes */
static double sem_pingpong(int n, int cpu_parent, int cpu_child) {
  sem_t *s = shared_map(2 * sizeof(sem_t));
  sem_init(&s[0], 1, 0);
  sem_init(&s[1], 1, 0);
  pid_t p = fork();
  if (p == 0) {
    pin(cpu_child);
    for (int i = 0; i < n; i++) { sem_wait(&s[0]); sem_post(&s[1]); }
    _exit(0);
  }
  pin(cpu_parent);
  double t = now();
  for (int i = 0; i < n; i++) { sem_post(&s[0]); sem_wait(&s[1]); }
  t = now() - t;
  waitpid(p, NULL, 0);
  unpin();
  munmap(s, 2 * sizeof(sem_t));
  return t / n;
}

static double pipe_pingpong(int n, int cpu_parent, int cpu_child) {
  int a[2], b[2];
  if (pipe(a) || pipe(b)) { perror("pipe"); exit(1); }
  char c = 'x';
  pid_t p = fork();
  if (p == 0) {
    pin(cpu_child);
    for (int i = 0; i < n; i++) { full_read(a[0], &c, 1); full_write(b[1], &c, 1); }
    _exit(0);
  }
  pin(cpu_parent);
  double t = now();
  for (int i = 0; i < n; i++) { full_write(a[1], &c, 1); full_read(b[0], &c, 1); }
  t = now() - t;
  waitpid(p, NULL, 0);
  unpin();
  close(a[0]); close(a[1]); close(b[0]); close(b[1]);
  return t / n;
}

/* ---- one-way streams through a pipe, child -> parent (queue, join result) */
static double pipe_stream(long items, size_t size) {
  int fd[2];
  if (pipe(fd)) { perror("pipe"); exit(1); }
  char *buf = malloc(size);
  memset(buf, 'x', size);
  double t = now();
  pid_t p = fork();
  if (p == 0) {
    close(fd[0]);
    for (long i = 0; i < items; i++) {
      if (size == sizeof(long)) memcpy(buf, &i, sizeof i);
      full_write(fd[1], buf, size);
    }
    _exit(0);
  }
  close(fd[1]);
  long sum = 0;
  for (long i = 0; i < items; i++) {
    full_read(fd[0], buf, size);
    sum += buf[0];
  }
  waitpid(p, NULL, 0);
  t = now() - t;
  close(fd[0]);
  free(buf);
  if (sum == 42) puts("");  /* keep the reads */
  return t;
}

/* ---- a queue in shared memory: a ring of `slots` slots of `size` bytes,
 * guarded by two process-shared counting semaphores (free slots, full
 * slots), one sem_wait + sem_post per item on each side; the child copies
 * each item in, the parent copies it out. The bound for mp's queue, whose
 * items also travel through shared memory (its arena), not a pipe. */
static double shm_ring(long items, size_t size, int slots) {
  size_t bytes = 2 * sizeof(sem_t) + (size_t)slots * size;
  char *m = shared_map(bytes);
  sem_t *free_slots = (sem_t *)m, *full_slots = free_slots + 1;
  char *ring = m + 2 * sizeof(sem_t);
  sem_init(free_slots, 1, (unsigned)slots);
  sem_init(full_slots, 1, 0);
  char *buf = malloc(size);
  memset(buf, 'x', size);
  double t = now();
  pid_t p = fork();
  if (p == 0) {
    for (long i = 0; i < items; i++) {
      if (size >= sizeof(long)) memcpy(buf, &i, sizeof i);
      sem_wait(free_slots);
      memcpy(ring + (size_t)(i % slots) * size, buf, size);
      sem_post(full_slots);
    }
    _exit(0);
  }
  long sum = 0;
  for (long i = 0; i < items; i++) {
    sem_wait(full_slots);
    memcpy(buf, ring + (size_t)(i % slots) * size, size);
    sem_post(free_slots);
    long v;
    memcpy(&v, buf, sizeof v);
    sum += v;
  }
  waitpid(p, NULL, 0);
  t = now() - t;
  free(buf);
  munmap(m, bytes);
  if (sum != items * (items - 1) / 2) fprintf(stderr, "shm_ring: wrong sum %ld\n", sum);
  return t;
}

/* ---- locks */
typedef struct { pthread_mutex_t m; long counter; } locked_counter;

static locked_counter *new_counter(int robust) {
  locked_counter *c = shared_map(sizeof *c);
  pthread_mutexattr_t a;
  pthread_mutexattr_init(&a);
  pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
  if (robust) pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
  pthread_mutex_init(&c->m, &a);
  c->counter = 0;
  return c;
}

static double contended(int n, int robust, long *total) {
  locked_counter *c = new_counter(robust);
  double t = now();
  pid_t ps[2];
  for (int k = 0; k < 2; k++) {
    ps[k] = fork();
    if (ps[k] == 0) {
      for (int i = 0; i < n; i++) {
        pthread_mutex_lock(&c->m);
        c->counter = c->counter + 1;
        pthread_mutex_unlock(&c->m);
      }
      _exit(0);
    }
  }
  waitpid(ps[0], NULL, 0);
  waitpid(ps[1], NULL, 0);
  t = now() - t;
  *total = c->counter;
  munmap(c, sizeof *c);
  return t;
}

static double uncontended_mutex(int n, int robust) {
  locked_counter *c = new_counter(robust);
  double t = now();
  for (int i = 0; i < n; i++) {
    pthread_mutex_lock(&c->m);
    pthread_mutex_unlock(&c->m);
  }
  t = now() - t;
  munmap(c, sizeof *c);
  return t / n;
}

static double uncontended_sem(int n) {
  sem_t *s = shared_map(sizeof(sem_t));
  sem_init(s, 1, 1);
  double t = now();
  for (int i = 0; i < n; i++) { sem_wait(s); sem_post(s); }
  t = now() - t;
  munmap(s, sizeof(sem_t));
  return t / n;
}

#define REPS 3
#define BEST(expr) ({ double _b = 1e30; for (int _r = 0; _r < REPS; _r++) _b = best(_b, (expr)); _b; })

int main(void) {
  ncpu = (int)sysconf(_SC_NPROCESSORS_ONLN);
  setvbuf(stdout, NULL, _IOLBF, 0);

  printf("fork_us %.1f us  # fork + _exit + waitpid, small process\n", BEST(fork_cost(200)) * 1e6);
  {
    /* 50 MB as 400,000 small blocks, like an interpreter's objects (one big
     * malloc would be mmapped and backed by huge pages, whose page tables
     * cost almost nothing to copy). */
    enum { blocks = 400000, size = 128 };
    char **heap = malloc(blocks * sizeof *heap);
    for (int i = 0; i < blocks; i++) { heap[i] = malloc(size); memset(heap[i], 1, size); }
    printf("fork50mb_us %.1f us  # the same after malloc + memset of 400,000 x 128 bytes (~55 MB)\n",
           BEST(fork_cost(50)) * 1e6);
    for (int i = 0; i < blocks; i++) free(heap[i]);
    free(heap);
  }
  {
    double t = 1e30;
    for (int r = 0; r < REPS; r++) {
      double t0 = now();
      pid_t ps[50];
      for (int i = 0; i < 50; i++) { ps[i] = fork(); if (ps[i] == 0) _exit(0); }
      for (int i = 0; i < 50; i++) waitpid(ps[i], NULL, 0);
      t = best(t, now() - t0);
    }
    printf("fork50_ms %.2f ms  # 50 forks, then 50 waitpids\n", t * 1e3);
  }

  printf("sem_rt_us %.2f us  # semaphore ping-pong round trip, unpinned\n", BEST(sem_pingpong(20000, -1, -1)) * 1e6);
  printf("sem_rt_same_us %.2f us  # the same, both on one CPU\n", BEST(sem_pingpong(20000, 0, 0)) * 1e6);
  printf("sem_rt_cross_us %.2f us  # the same, on two CPUs\n", BEST(sem_pingpong(2000, 0, 1)) * 1e6);
  printf("pipe_rt_us %.2f us  # pipe round trip (1 byte each way), unpinned\n", BEST(pipe_pingpong(20000, -1, -1)) * 1e6);
  printf("pipe_rt_same_us %.2f us  # the same, both on one CPU\n", BEST(pipe_pingpong(20000, 0, 0)) * 1e6);
  printf("pipe_rt_cross_us %.2f us  # the same, on two CPUs\n", BEST(pipe_pingpong(2000, 0, 1)) * 1e6);

  printf("pipe_100k_ms %.2f ms  # fork + 100,000 8-byte write()s through a pipe, read one by one, + waitpid\n",
         BEST(pipe_stream(100000, sizeof(long))) * 1e3);
  printf("pipe_200x1mb_ms %.1f ms  # fork + 200 x 1 MB through a pipe + waitpid\n",
         BEST(pipe_stream(200, 1 << 20)) * 1e3);
  printf("pipe_50mb_ms %.1f ms  # fork + 50 MB through a pipe + waitpid\n",
         BEST(pipe_stream(1, 50u << 20)) * 1e3);

  printf("ring_100k_ms %.2f ms  # fork + 100,000 8-byte items through a shared-memory ring (1024 slots, "
         "2 semaphores) + waitpid\n", BEST(shm_ring(100000, sizeof(long), 1024)) * 1e3);
  printf("ring_200x1mb_ms %.1f ms  # fork + 200 x 1 MB through a shared-memory ring (4 slots) + waitpid\n",
         BEST(shm_ring(200, 1 << 20, 4)) * 1e3);

  long total = 0;
  printf("mutex_2x100k_ms %.2f ms  # 2 processes x 100,000 increments under a process-shared robust mutex\n",
         BEST(contended(100000, 1, &total)) * 1e3);
  if (total != 200000) printf("# lost updates: %ld\n", total);
  printf("mutex_ns %.1f ns  # uncontended lock + unlock, process-shared robust mutex\n",
         BEST(uncontended_mutex(1000000, 1)) * 1e9);
  printf("mutex_plain_ns %.1f ns  # the same, non-robust mutex\n", BEST(uncontended_mutex(1000000, 0)) * 1e9);
  printf("sem_ns %.1f ns  # uncontended sem_wait + sem_post, process-shared\n", BEST(uncontended_sem(1000000)) * 1e9);
  return 0;
}
