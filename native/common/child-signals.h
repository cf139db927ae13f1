/* reset_child_signals(): a forked child about to exec a helper (pasta, slirp4netns, the runtime,
 * the exit and health commands) gets an empty signal mask and the default actions back.  Ignored
 * signals stay ignored across exec (pasta refuses to start with SIGPIPE ignored, and a container
 * must not inherit the monitor's ignored SIGINT, SIGHUP and SIGTERM).  */
#ifndef SKIFF_CHILD_SIGNALS_H
#define SKIFF_CHILD_SIGNALS_H

#include <signal.h>
#include <stddef.h>

static void
reset_child_signals (void)
{
  sigset_t none;
  sigemptyset (&none);
  sigprocmask (SIG_SETMASK, &none, NULL);
  signal (SIGPIPE, SIG_DFL);
  signal (SIGINT, SIG_DFL);
  signal (SIGHUP, SIG_DFL);
  signal (SIGTERM, SIG_DFL);
}

#endif
