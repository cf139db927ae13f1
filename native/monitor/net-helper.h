/* The network helper of the container's network namespace (PROTOCOL.md, --net-helper and what
 * follows it).  "{pid}" in its arguments becomes the container's pid and "{netns}" the
 * --net-ns-path file.  Two kinds:
 * - slirp4netns, started once the container exists: given fd 3 (its exit fd: closed when this
 *   monitor ends, however it ends) and fd 4 (its ready fd);
 * - --net-helper-pid-file F (pasta, in the foreground): ready when it has written its pid to F; it
 *   gets SIGTERM when this monitor ends however it ends (parent-death signal), and from
 *   net_helper_stop when the container does.  pasta must be given a file (it keeps too few
 *   capabilities to open another process's /proc/PID/ns/net): with --net-ns-path the monitor
 *   makes the namespace itself, bound to that file, and starts the helper before the runtime's
 *   `create` (whose spec names the file), so pasta's start-up (tens of ms: it fills socket
 *   pools) overlaps the runtime's.
 * --net-helper-adopt PID: the namespace file and pasta (PID) on it exist already (the launcher's
 * spare network, see native/launcher/skiff.c).  The monitor takes it over (net_helper_adopt: the
 * launcher's watcher leaves it alone from then on); net_helper_await_adopted waits for its pid
 * file, and starts the helper itself on the same namespace when that pasta failed (pid file: -1).  */
#ifndef SKIFF_MONITOR_NET_HELPER_H
#define SKIFF_MONITOR_NET_HELPER_H

#include "cli.h"
#include <sys/types.h>

struct net_helper
{
  const struct options *opt;
  int exit_fd, ready_fd;
  pid_t pid;         /* the helper this monitor started */
  pid_t stoppable;   /* the helper to stop with the container (started or adopted), or -1 */
  int adopted_pidfd; /* the adopted pasta (not a child: its pid could be reused) */
  char message[512];
};

/* The helper of `opt`, not started.  */
void net_helper_init (struct net_helper *h, const struct options *opt);

/* --net-ns-path: a new network namespace, bound to that file.  NULL, or what went wrong.  */
const char *net_helper_create_netns (struct net_helper *h);

/* Starts the helper for the container `container` (-1 when it does not exist yet: a helper on
   --net-ns-path).  NULL, or what went wrong.  */
const char *net_helper_launch (struct net_helper *h, int container);

/* Waits for the helper to get ready (10 s at most): NULL, or what went wrong (the helper is then
   killed and the namespace released).  */
const char *net_helper_await (struct net_helper *h);

/* Takes over the launcher's spare pasta (--net-helper-adopt).  */
void net_helper_adopt (struct net_helper *h);

/* Waits for the adopted pasta to get ready, or starts and awaits a helper of this monitor's own
   on the namespace when it did not: NULL, or what went wrong.  */
const char *net_helper_await_adopted (struct net_helper *h);

/* Ends the network helper with its container: slirp4netns sees its exit fd close; pasta is asked
   to quit, and when it holds host ports, waited for (up to a second) so that they are free once
   the exit is reported.  Not otherwise: a pasta takes ~20 ms to end (its socket pools and buffers).
   The namespace file goes too.  */
void net_helper_stop (struct net_helper *h);

#endif
