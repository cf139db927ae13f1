/* Small helpers the monitor's parts share: whole writes, descriptors over unix sockets, listening
 * sockets, and the log's and exit file's timestamps.  */
#ifndef SKIFF_MONITOR_UTIL_H
#define SKIFF_MONITOR_UTIL_H

#include <stddef.h>

/* Writes all of `data`, retrying on EINTR; -1 on any other failure.  */
int write_all (int fd, const void *data, size_t len);

/* Receives one message on a unix socket into `data` (up to `len` bytes) and the file descriptor it
   carries (SCM_RIGHTS); -1 when there is none or the receive failed.  */
int recv_fd (int sock, void *data, size_t len);

/* A non-blocking SOCK_STREAM unix socket listening at `path` (replacing what was there, mode
   0600), or -1 with the reason in `error`.  */
int unix_listen (const char *path, char *error, size_t size);

/* The current time as RFC 3339 with nanoseconds, in UTC.  */
void rfc3339nano (char *out, size_t cap);

#endif
