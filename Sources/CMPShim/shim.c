#define _GNU_SOURCE
#include "mpshim.h"
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>

volatile int mp_interrupt_flag = 0;

static void on_sigint(int sig) {
  (void)sig;
  mp_interrupt_flag = 1;
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
