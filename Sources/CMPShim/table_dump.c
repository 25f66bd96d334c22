/* `mp test` on a timeout: the runner sends SIGUSR1 to the program's main
   process, which writes what every live process of the program is doing to
   stderr, from the process table in the shared arena. Only async-signal-safe
   calls (write) and plain loads: the process may be stopped anywhere. */
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <errno.h>
#include "mpshim.h"

static struct mp_table_layout layout;

static void put(char *buf, int *n, const char *s) {
  while (*s && *n < 4000) buf[(*n)++] = *s++;
}

static void put_int(char *buf, int *n, long long v) {
  char tmp[24];
  int k = 0;
  unsigned long long u = v < 0 ? (unsigned long long)(-v) : (unsigned long long)v;
  do { tmp[k++] = (char)('0' + u % 10); u /= 10; } while (u && k < 23);
  if (v < 0) tmp[k++] = '-';
  while (k > 0 && *n < 4000) buf[(*n)++] = tmp[--k];
}

static void put_name(char *buf, int *n, const char *s, int max) {
  for (int i = 0; i < max && s[i] && *n < 4000; i++) buf[(*n)++] = s[i];
}

static int32_t load32(const char *p) { return mp_atomic_load32((const volatile int32_t *)p); }

static void dump(int sig) {
  (void)sig;
  int saved = errno;
  char buf[4096];
  int n = 0;
  /* Wait kinds as numbered in ProcessTable.WaitKind. */
  put(buf, &n, "mp: live processes when the time ran out:\n");
  write(2, buf, (size_t)n);
  for (int i = 0; i < layout.capacity; i++) {
    const char *e = (const char *)layout.table + (long)i * layout.entry_size;
    int32_t pid = load32(e + layout.pid_off);
    int32_t state = load32(e + layout.state_off);
    /* Free entries, and ended processes (kept until the entry is reused). */
    if (pid == 0 || state == 0 || state == 3) continue;
    n = 0;
    put(buf, &n, "  pid ");
    put_int(buf, &n, pid);
    put(buf, &n, " ");
    put_name(buf, &n, e + layout.name_off, layout.name_len);
    put(buf, &n, ": ");
    int32_t kind = *(const int32_t *)(e + layout.wait_kind_off);
    int64_t target = *(const int64_t *)(e + layout.wait_target_off);
    const char *obj = (const char *)layout.arena + target;
    if (state != 2) {
      put(buf, &n, "running");
    } else if (kind == 1 || kind == 2) {
      put(buf, &n, kind == 1 ? "waiting on lock " : "waiting on semaphore ");
      put_int(buf, &n, *(const int32_t *)(obj + layout.number_off));
      if (kind == 1) {
        int32_t owner = load32(obj + layout.payload_off + layout.lock_owner_off);
        if (owner != 0) {
          put(buf, &n, " held by ");
          put_int(buf, &n, owner);
          put(buf, &n, " (");
          put_name(buf, &n, obj + layout.payload_off + layout.lock_name_off, layout.lock_name_len);
          put(buf, &n, ")");
        }
      }
    } else if (kind == 3 || kind == 4) {
      put(buf, &n, kind == 3 ? "waiting to get from queue " : "waiting to put on queue ");
      put_int(buf, &n, *(const int32_t *)(obj + layout.number_off));
      int64_t count = *(const int64_t *)(obj + layout.payload_off + layout.queue_count_off) -
                      *(const int64_t *)(obj + layout.payload_off + layout.queue_got_off);
      int32_t closed = load32(obj + layout.payload_off + layout.queue_closed_off);
      put(buf, &n, count == 0 ? " (empty" : " (");
      if (count != 0) { put_int(buf, &n, count); put(buf, &n, " items"); }
      put(buf, &n, closed ? ", closed)" : ", not closed)");
    } else if (kind == 5) {
      put(buf, &n, "waiting to join process ");
      put_int(buf, &n, target);
    } else if (kind == 6) {
      put(buf, &n, "sleeping");
    } else if (kind >= 7 && kind <= 9) {
      /* Event, condition, barrier: numbered objects like locks. */
      put(buf, &n, kind == 7 ? "waiting on event " : kind == 8 ? "waiting on condition " : "waiting on barrier ");
      put_int(buf, &n, *(const int32_t *)(obj + layout.number_off));
    } else if (kind == 10) {
      put(buf, &n, "waiting to receive from a pipe");
    } else if (kind == 11) {
      put(buf, &n, "waiting for a pool result");
    } else {
      put(buf, &n, "waiting (wait kind ");
      put_int(buf, &n, kind);
      put(buf, &n, ")");
    }
    put(buf, &n, "\n");
    write(2, buf, (size_t)n);
  }
  /* The end, so that `mp test` kills the run as soon as it has the list. */
  n = 0;
  put(buf, &n, MP_TABLE_DUMP_END "\n");
  write(2, buf, (size_t)n);
  errno = saved;
}

void mp_install_table_dump(const struct mp_table_layout *l) {
  layout = *l;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = dump;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGUSR1, &sa, NULL);
}
