/* The container's stdio: pipes (the runtime's stderr doubles as the channel for its messages while
 * it creates), or a pty the runtime sends over a console socket; and the container's output,
 * copied to the log and to attach clients.  */
#define _GNU_SOURCE
#include "container-io.h"
#include "util.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int
container_io_open (struct container_io *io, const struct options *opt, char *error, size_t size)
{
  io->out[0] = io->out[1] = io->err[0] = io->err[1] = io->in[0] = io->in[1] = -1;
  io->console_fd = -1;
  io->devnull = open ("/dev/null", O_RDWR | O_CLOEXEC);
  if (pipe2 (io->err, O_CLOEXEC) < 0)
    {
      snprintf (error, size, "pipe: %s", strerror (errno));
      return -1;
    }
  if (opt->terminal)
    {
      snprintf (io->console_path, sizeof io->console_path, "%s.console", opt->socket_path);
      io->console_fd = unix_listen (io->console_path, error, size);
      return io->console_fd < 0 ? -1 : 0;
    }
  if (pipe2 (io->out, O_CLOEXEC) < 0 || (opt->open_stdin && pipe2 (io->in, O_CLOEXEC) < 0))
    {
      snprintf (error, size, "pipe: %s", strerror (errno));
      return -1;
    }
  return 0;
}

int
container_io_receive_pty (int console_fd)
{
  int conn = accept4 (console_fd, NULL, NULL, SOCK_CLOEXEC);
  if (conn < 0)
    return -1;
  char data[256];
  int fd = recv_fd (conn, data, sizeof data);
  close (conn);
  return fd;
}

bool
container_io_pump (int fd, int type, struct log *log, struct attach *a)
{
  static char buf[READ_BUF];
  ssize_t n = read (fd, buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return true;
  if (n <= 0)
    return false;
  log_output (log, type == FRAME_STDERR ? "stderr" : "stdout", buf, (size_t) n);
  attach_broadcast (a, type, buf, (size_t) n);
  return true;
}
