/* sd_notify for a container run by a systemd unit (Type=notify): the monitor is the unit's main
 * process and speaks for the container (PROTOCOL.md, "sd_notify").  */
#ifndef SKIFF_MONITOR_NOTIFY_H
#define SKIFF_MONITOR_NOTIFY_H

#include "cli.h"
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/un.h>

struct notify
{
  int host_fd;  /* to the unit's NOTIFY_SOCKET, -1 without one */
  int proxy_fd; /* the container's socket (--sdnotify-mode container), -1 otherwise */
  struct sockaddr_un host;
  socklen_t host_len;
  bool mainpid_sent;
  bool ready_sent;
};

/* Opens the way to systemd and, in container mode, the container's socket (before the create: the
   bundle mounts its directory); NULL, or what failed.  */
const char *notify_init (struct notify *n, const struct options *opt);
/* The container exists: MAINPID=the monitor, before the CLI (the unit's ExecStart) may end.  */
void notify_mainpid (struct notify *n);
/* The container runs: READY=1 in conmon mode (in container mode the container says it).  */
void notify_started (struct notify *n, const struct options *opt);
/* Reads what the container sent to its socket and passes the documented kinds on.  */
void notify_forward (struct notify *n);
void notify_close (struct notify *n, const struct options *opt);

#endif
