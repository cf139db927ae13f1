/* The attach socket (PROTOCOL.md, "Attach socket"): clients get the container's output as frames
 * and send stdin, EOF, pty resizes and their clean-up frames back.  A client that cannot keep up
 * is dropped, never waited on.  */
#define _GNU_SOURCE
#include "attach.h"
#include "util.h"
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

void
attach_init (struct attach *a)
{
  a->listen_fd = a->stdin_fd = a->pty_fd = -1;
  for (int i = 0; i < MAX_CLIENTS; i++)
    a->clients[i].fd = -1;
}

static void
drop_client (struct client *c)
{
  if (c->fd >= 0)
    close (c->fd);
  c->fd = -1;
  c->len = 0;
}

static void
send_frame (struct client *c, int type, const void *data, size_t len)
{
  unsigned char head[5] = { (unsigned char) type, (unsigned char) (len >> 24), (unsigned char) (len >> 16), (unsigned char) (len >> 8), (unsigned char) len };
  if (c->fd < 0)
    return;
  /* The socket is non-blocking: a client that cannot take a frame whole is dropped, never waited on.  */
  struct iovec iov[2] = { { head, 5 }, { (void *) data, len } };
  struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2 };
  ssize_t n = sendmsg (c->fd, &msg, MSG_NOSIGNAL);
  if (n != (ssize_t) (len + 5))
    drop_client (c);
}

void
attach_broadcast (struct attach *a, int type, const void *data, size_t len)
{
  for (int i = 0; i < MAX_CLIENTS; i++)
    send_frame (&a->clients[i], type, data, len);
}

static void
handle_frame (struct attach *a, int type, const unsigned char *payload, size_t len)
{
  if (type == FRAME_STDIN && a->stdin_fd >= 0)
    {
      if (write_all (a->stdin_fd, payload, len) < 0 && a->pty_fd < 0)
        {
          close (a->stdin_fd);
          a->stdin_fd = -1;
        }
    }
  else if (type == FRAME_CLOSE_STDIN && a->stdin_fd >= 0)
    {
      if (a->pty_fd >= 0)
        write_all (a->pty_fd, "\004", 1); /* EOF for a pty in canonical mode */
      else
        {
          close (a->stdin_fd);
          a->stdin_fd = -1;
        }
    }
  else if (type == FRAME_CLEANED)
    a->cleaned_by_client = true;
  else if (type == FRAME_DELETE)
    a->delete_left = true;
  else if (type == FRAME_STARTED)
    a->started = true;
  else if (type == FRAME_RESIZE && a->pty_fd >= 0)
    {
      char text[32];
      unsigned rows, cols;
      size_t n = len < sizeof text - 1 ? len : sizeof text - 1;
      memcpy (text, payload, n);
      text[n] = '\0';
      if (sscanf (text, "%u %u", &rows, &cols) == 2)
        {
          struct winsize ws = { .ws_row = (unsigned short) rows, .ws_col = (unsigned short) cols };
          ioctl (a->pty_fd, TIOCSWINSZ, &ws);
        }
    }
}

void
attach_read (struct attach *a, struct client *c)
{
  ssize_t n = read (c->fd, c->buf + c->len, sizeof c->buf - c->len);
  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return;
  if (n <= 0)
    {
      drop_client (c);
      return;
    }
  c->len += (size_t) n;
  size_t off = 0;
  while (c->len - off >= 5)
    {
      size_t flen = ((size_t) c->buf[off + 1] << 24) | ((size_t) c->buf[off + 2] << 16) | ((size_t) c->buf[off + 3] << 8) | c->buf[off + 4];
      if (flen > READ_BUF)
        {
          drop_client (c);
          return;
        }
      if (c->len - off - 5 < flen)
        break;
      handle_frame (a, c->buf[off], c->buf + off + 5, flen);
      off += 5 + flen;
    }
  memmove (c->buf, c->buf + off, c->len - off);
  c->len -= off;
}

bool
attach_accept (struct attach *a)
{
  int fd = accept4 (a->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (fd < 0)
    return false;
  int sndbuf = 1024 * 1024;
  setsockopt (fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
  for (int i = 0; i < MAX_CLIENTS; i++)
    if (a->clients[i].fd < 0)
      {
        a->clients[i].fd = fd;
        a->clients[i].len = 0;
        return true;
      }
  close (fd);
  return true;
}

void
attach_await_hangups (struct attach *a, long timeout_ms)
{
  struct timespec start, now;
  clock_gettime (CLOCK_MONOTONIC, &start);
  for (;;)
    {
      struct pollfd p[MAX_CLIENTS];
      int np = 0;
      for (int i = 0; i < MAX_CLIENTS; i++)
        if (a->clients[i].fd >= 0)
          p[np++] = (struct pollfd) { a->clients[i].fd, POLLIN, 0 };
      clock_gettime (CLOCK_MONOTONIC, &now);
      long waited = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
      if (np == 0 || waited >= timeout_ms)
        break;
      if (poll (p, (nfds_t) np, (int) (timeout_ms - waited)) < 0 && errno != EINTR)
        break;
      for (int i = 0; i < MAX_CLIENTS; i++)
        if (a->clients[i].fd >= 0)
          for (int j = 0; j < np; j++)
            if (p[j].fd == a->clients[i].fd && (p[j].revents & (POLLIN | POLLHUP | POLLERR)))
              attach_read (a, &a->clients[i]);
    }
  for (int i = 0; i < MAX_CLIENTS; i++)
    drop_client (&a->clients[i]);
}
