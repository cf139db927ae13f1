/* sd_notify (PROTOCOL.md, "sd_notify").  --sdnotify-socket is the unit's NOTIFY_SOCKET, which the
 * CLI takes out of every environment it passes on (an OCI runtime that sees it proxies it itself).
 * conmon mode: the monitor says MAINPID=itself and READY=1 once the container runs.  container
 * mode: MAINPID once it runs, then what the container sends to its own socket (--sdnotify-proxy,
 * which the bundle mounts at /run/notify) is passed on, line by line, only the documented
 * state kinds: a container cannot name another main process or hand systemd descriptors.  */
#define _GNU_SOURCE
#include "notify.h"
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* What a container may tell systemd (sd_notify(3)).  */
static const char *const PASSED[] = { "READY=1",          "STATUS=",        "ERRNO=",     "BUSERROR=",   "EXTEND_TIMEOUT_USEC=", "WATCHDOG=1",
                                      "WATCHDOG=trigger", "WATCHDOG_USEC=", "STOPPING=1", "RELOADING=1", "MONOTONIC_USEC=",      NULL };

static bool
passed (const char *line)
{
  for (int i = 0; PASSED[i]; i++)
    {
      size_t len = strlen (PASSED[i]);
      if (PASSED[i][len - 1] == '=' ? strncmp (line, PASSED[i], len) == 0 : strcmp (line, PASSED[i]) == 0)
        return true;
    }
  return false;
}

static void
send_host (struct notify *n, const char *text, size_t len)
{
  if (n->host_fd >= 0)
    while (sendto (n->host_fd, text, len, MSG_NOSIGNAL, (struct sockaddr *) &n->host, n->host_len) < 0 && errno == EINTR)
      ;
}

const char *
notify_init (struct notify *n, const struct options *opt)
{
  n->host_fd = n->proxy_fd = -1;
  if (!opt->sdnotify_socket)
    return NULL;
  size_t len = strlen (opt->sdnotify_socket);
  if (len == 0 || len >= sizeof n->host.sun_path)
    return "the unit's NOTIFY_SOCKET path is too long";
  n->host.sun_family = AF_UNIX;
  memcpy (n->host.sun_path, opt->sdnotify_socket, len);
  if (n->host.sun_path[0] == '@') /* abstract */
    n->host.sun_path[0] = '\0';
  n->host_len = (socklen_t) (offsetof (struct sockaddr_un, sun_path) + len);
  n->host_fd = socket (AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (n->host_fd < 0)
    return "cannot make a socket for sd_notify";
  if (!opt->sdnotify_proxy)
    return NULL;
  /* The container's socket: its directory searchable and the socket writable by every id of the
     container (its user may be any of them).  */
  struct sockaddr_un proxy = { .sun_family = AF_UNIX };
  if (strlen (opt->sdnotify_proxy) >= sizeof proxy.sun_path)
    return "the container's notify socket path is too long (a shorter XDG_RUNTIME_DIR or --runroot helps)";
  strcpy (proxy.sun_path, opt->sdnotify_proxy);
  char dir[sizeof proxy.sun_path];
  strcpy (dir, opt->sdnotify_proxy);
  char *parent = dirname (dir);
  mkdir (parent, 0755);
  chmod (parent, 0755);
  unlink (proxy.sun_path);
  n->proxy_fd = socket (AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (n->proxy_fd < 0 || bind (n->proxy_fd, (struct sockaddr *) &proxy, sizeof proxy) < 0 || chmod (proxy.sun_path, 0777) < 0)
    {
      static char why[sizeof proxy.sun_path + 128];
      snprintf (why, sizeof why, "cannot make the container's notify socket %s: %s", proxy.sun_path, strerror (errno));
      return why;
    }
  return NULL;
}

void
notify_mainpid (struct notify *n)
{
  if (n->host_fd < 0 || n->mainpid_sent)
    return;
  char text[32];
  int len = snprintf (text, sizeof text, "MAINPID=%d\n", getpid ());
  send_host (n, text, (size_t) len);
  n->mainpid_sent = true;
}

void
notify_started (struct notify *n, const struct options *opt)
{
  notify_mainpid (n);
  if (n->host_fd < 0 || n->ready_sent || opt->sdnotify_proxy) /* container mode: the container says READY */
    return;
  send_host (n, "READY=1\n", 8);
  n->ready_sent = true;
}

void
notify_forward (struct notify *n)
{
  char in[4096], out[4096 + 64];
  ssize_t got;
  /* A bounded round: a container that sends without pause must not keep the monitor from its
     other work (output, clients, its exit).  */
  for (int round = 0; round < 64 && ((got = recv (n->proxy_fd, in, sizeof in - 1, MSG_DONTWAIT | MSG_TRUNC)) >= 0 || errno == EINTR); round++)
    {
      if (got < 0 || got >= (ssize_t) sizeof in)
        continue; /* interrupted, or cut short: dropped */
      in[got] = '\0';
      size_t len = 0;
      char *save = NULL;
      for (char *line = strtok_r (in, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
        if (passed (line))
          len += (size_t) snprintf (out + len, sizeof out - len, "%s\n", line);
      if (len > 0 && n->host_fd >= 0 && n->mainpid_sent)
        send_host (n, out, len);
    }
}

void
notify_close (struct notify *n, const struct options *opt)
{
  if (n->proxy_fd >= 0)
    {
      close (n->proxy_fd);
      unlink (opt->sdnotify_proxy);
      char dir[sizeof ((struct sockaddr_un *) 0)->sun_path];
      snprintf (dir, sizeof dir, "%s", opt->sdnotify_proxy);
      rmdir (dirname (dir));
    }
  if (n->host_fd >= 0)
    close (n->host_fd);
  n->host_fd = n->proxy_fd = -1;
}
