#ifndef MPSHIM_H
#define MPSHIM_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/// Set by the SIGINT handler; polled by loops, calls and blocking waits.
extern volatile int mp_interrupt_flag;

/// Installs a SIGINT handler (no SA_RESTART) that only sets mp_interrupt_flag.
int mp_install_sigint(void);
/// Restores the default SIGINT disposition (used in forked children before exit paths).
void mp_default_sigint(void);

/// Current stack pointer, for recursion bounds measured in bytes.
uintptr_t mp_stack_pointer(void);

/// prctl(PR_SET_PDEATHSIG, sig): the child dies with its parent.
int mp_set_pdeathsig(int sig);

int mp_wifexited(int status);
int mp_wexitstatus(int status);
int mp_wifsignaled(int status);
int mp_wtermsig(int status);

/// snprintf(buf, n, "%.*<conv>", prec, x); conv is one of f e g E G.
int mp_format_double(char *buf, size_t n, int prec, char conv, double x);
/// snprintf with "%.17g" — used to find the shortest round-trip float text.
int mp_format_double_g(char *buf, size_t n, int prec, double x);
#endif
