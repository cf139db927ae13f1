/* The container's stdio: pipes (the runtime's stderr doubles as the channel for its messages while
 * it creates), or a pty the runtime sends over a console socket; and the container's output,
 * copied to the log and to attach clients.  */
#ifndef SKIFF_MONITOR_CONTAINER_IO_H
#define SKIFF_MONITOR_CONTAINER_IO_H

#include "attach.h"
#include "cli.h"
#include "log.h"
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

struct container_io
{
  int devnull;
  int out[2], err[2], in[2]; /* pipes; out and in not with a terminal, in only with --stdin */
  int console_fd;            /* with a terminal: where the runtime sends the pty, else -1 */
  char console_path[PATH_MAX];
};

/* Makes the pipes, or the console socket: 0, or -1 with the reason in `error`.  */
int container_io_open (struct container_io *io, const struct options *opt, char *error, size_t size);

/* Receives the pty master that the runtime sends over the console socket (SCM_RIGHTS), or -1.  */
int container_io_receive_pty (int console_fd);

/* Reads what is available from a container output fd into the log and to attach clients (as frames
   of `type`); false at EOF or error.  */
bool container_io_pump (int fd, int type, struct log *log, struct attach *a);

#endif
