/* Published ports, forwarded by the monitor itself (UDP too: a socket per client in the container's
 * namespace carries its datagrams and the replies).  TCP (rootlessport's idea, in C): the monitor
 * listens on the host's ports in the host's network namespace; a dialer child that has entered
 * the container's network namespace opens a connection to 127.0.0.1:PORT there for each accepted
 * client and passes the socket back (SCM_RIGHTS); the monitor then moves bytes both ways with
 * splice(2), without copying them through its memory.  Both sockets live in one process, so no
 * packet goes through a userspace TCP stack: this is what makes it faster than slirp4netns's own
 * forwarding.  */
#define _GNU_SOURCE
#include "ports.h"
#include "util.h"
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define RELAY_PIPE (1024 * 1024)
#define FLOW_IDLE_SECONDS 60
/* The mark of a connection dialled from a client's address (src/network/bridge.ts, TRANSPARENT_MARK). */
#define TRANSPARENT_MARK 0x5f1
/* How long the dialer waits for a connection (the monitor waits for the dialer meanwhile): a
   container on a bridge answers at once; one whose answer never comes (its way back to a kept
   client address missing, or its firewall dropping) must not stop the monitor for minutes.  */
#define TRANSPARENT_DIAL_MS 1000
#define DIAL_MS 2000

/* What the monitor asks the dialer: a connection to `port`, from `client` when it is set (TCP).  */
struct dial_request
{
  uint16_t port;
  uint16_t udp;
  struct sockaddr_in client;
};

static int dial (struct ports *ports, int container_port, bool udp, const struct sockaddr_in *client);

/* Binds HOSTIP:HOSTPORT now, before the container exists, so a taken port fails the create.  */
/* The flow and relay tables (~13 KB) are set up with the first published port: a container
   without any never touches them.  */
static void
init_tables (struct ports *ports)
{
  for (int i = 0; i < MAX_RELAYS; i++)
    ports->relays[i].fd[0] = ports->relays[i].fd[1] = -1;
  for (int i = 0; i < MAX_FLOWS; i++)
    ports->flows[i].published = -1;
}

const char *
ports_publish (struct ports *ports, const char *spec, bool udp)
{
  static char error[160];
  char ip[64];
  int host_port, container_port;
  if (ports->n_published == 0)
    init_tables (ports);
  if (ports->n_published >= MAX_PUBLISHED || sscanf (spec, "%63[^,],%d,%d", ip, &host_port, &container_port) != 3)
    return "bad --publish-tcp/--publish-udp value (IP,HOSTPORT,CONTAINERPORT)";
  struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) host_port) };
  int one = 1, fd = socket (AF_INET, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0 || inet_pton (AF_INET, ip, &addr.sin_addr) != 1)
    return "bad address to publish on";
  if (!udp)
    setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind (fd, (struct sockaddr *) &addr, sizeof addr) < 0 || (!udp && listen (fd, 128) < 0))
    {
      snprintf (error, sizeof error, "cannot publish %s:%d/%s: %s", ip, host_port, udp ? "udp" : "tcp", strerror (errno));
      close (fd);
      return error;
    }
  ports->published[ports->n_published++] = (struct published) { fd, container_port, udp };
  return NULL;
}

/* A datagram for a published UDP port: to the client's flow (made on first use), into the container.  */
static void
relay_datagram_in (struct ports *ports, int index)
{
  struct published *pub = &ports->published[index];
  struct flow *flows = ports->flows;
  char buf[65536];
  struct sockaddr_in client;
  socklen_t len = sizeof client;
  ssize_t n;
  while ((n = recvfrom (pub->fd, buf, sizeof buf, 0, (struct sockaddr *) &client, &len)) >= 0)
    {
      time_t now = time (NULL);
      struct flow *f = NULL, *free_slot = NULL;
      for (int i = 0; i < MAX_FLOWS; i++)
        {
          if (flows[i].published == index && flows[i].client.sin_addr.s_addr == client.sin_addr.s_addr && flows[i].client.sin_port == client.sin_port)
            f = &flows[i];
          else if (flows[i].published >= 0 && now - flows[i].last > FLOW_IDLE_SECONDS)
            {
              close (flows[i].fd);
              flows[i].published = -1;
            }
          if (flows[i].published < 0 && !free_slot)
            free_slot = &flows[i];
        }
      if (!f && free_slot)
        {
          int fd = dial (ports, pub->container_port, true, NULL);
          if (fd >= 0)
            {
              fcntl (fd, F_SETFL, O_NONBLOCK);
              *free_slot = (struct flow) { index, client, fd, now };
              f = free_slot;
            }
        }
      if (f)
        {
          f->last = now;
          send (f->fd, buf, (size_t) n, MSG_NOSIGNAL);
        }
      len = sizeof client;
    }
}

/* A reply from the container: back to that flow's client, from the published port.  */
static void
relay_datagram_out (struct ports *ports, struct flow *f)
{
  char buf[65536];
  ssize_t n;
  while ((n = recv (f->fd, buf, sizeof buf, 0)) >= 0)
    {
      f->last = time (NULL);
      sendto (ports->published[f->published].fd, buf, (size_t) n, 0, (struct sockaddr *) &f->client, sizeof f->client);
    }
}

/* A socket bound to the client's address, for the container to see it: IP_TRANSPARENT lets it
   bind an address the namespace does not have, and the mark routes the replies back to it.  -1
   when the namespace does not allow it (the caller then dials as usual).  */
static int
transparent_socket (const struct sockaddr_in *client)
{
  int one = 1, mark = TRANSPARENT_MARK;
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  struct sockaddr_in any_port = *client;
  if (setsockopt (fd, SOL_IP, IP_TRANSPARENT, &one, sizeof one) == 0 && setsockopt (fd, SOL_SOCKET, SO_MARK, &mark, sizeof mark) == 0
      && setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0
      && (bind (fd, (const struct sockaddr *) client, sizeof *client) == 0
          || (any_port.sin_port = 0, bind (fd, (const struct sockaddr *) &any_port, sizeof any_port) == 0)))
    return fd;
  close (fd);
  return -1;
}

/* Whether a client is dialled from its own address: IPv4, not loopback, not on the container's own
   subnet (the container would look for it there rather than answer through the namespace).  */
static bool
keeps_address (const struct ports *ports, const struct sockaddr_in *client)
{
  uint32_t a = ntohl (client->sin_addr.s_addr), own = ntohl (ports->via_address.s_addr);
  uint32_t mask = ports->via_prefix <= 0 ? 0 : ports->via_prefix >= 32 ? 0xffffffffu : ~((1u << (32 - ports->via_prefix)) - 1);
  return client->sin_family == AF_INET && a != 0 && (a >> 24) != 127 && (a & mask) != (own & mask);
}

/* Connects fd to addr, giving up after ms milliseconds: 0, or the errno (ETIMEDOUT).  */
static int
connect_within (int fd, const struct sockaddr_in *addr, int ms)
{
  struct timeval limit = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 }, none = { 0 };
  setsockopt (fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
  int err = connect (fd, (const struct sockaddr *) addr, sizeof *addr) == 0 ? 0 : errno == EINPROGRESS ? ETIMEDOUT : errno;
  setsockopt (fd, SOL_SOCKET, SO_SNDTIMEO, &none, sizeof none);
  return err;
}

/* The dialer: lives in the container's network namespace and dials 127.0.0.1 there; with
   --publish-via keep, a remote client (keeps_address) is dialled from skiff's rootless network
   namespace instead (via_ns), to the container's address, from the client's own address. Loopback
   clients stay on the container's loopback: no bridge, no conntrack on their way (a third more
   throughput than through the bridge here), and their address would not be kept anyway.  */
static void
dialer_loop (const struct ports *ports, int control, int own_ns, int via_ns)
{
  int current = own_ns;
  for (;;)
    {
      struct dial_request request;
      if (read (control, &request, sizeof request) != sizeof request)
        _exit (0);
      bool keep = via_ns >= 0 && ports->via_keep && !request.udp && keeps_address (ports, &request.client);
      int wanted = keep ? via_ns : own_ns;
      if (wanted != current && setns (wanted, CLONE_NEWNET) == 0)
        current = wanted;
      struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons (request.port), .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
      if (current == via_ns)
        addr.sin_addr = ports->via_address;
      int fd = -1, err = 0;
      /* From the client's address where that works, else (no answer in time) as usual.  */
      if (keep && current == via_ns)
        fd = transparent_socket (&request.client);
      if (fd >= 0 && connect_within (fd, &addr, TRANSPARENT_DIAL_MS) != 0)
        {
          close (fd);
          fd = -1;
        }
      if (fd < 0)
        {
          fd = socket (AF_INET, (request.udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
          err = fd < 0 ? errno : connect_within (fd, &addr, DIAL_MS);
        }
      union
      {
        char buf[CMSG_SPACE (sizeof (int))];
        struct cmsghdr align;
      } control_msg;
      struct iovec iov = { &err, sizeof err };
      struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
      if (!err)
        {
          msg.msg_control = control_msg.buf;
          msg.msg_controllen = sizeof control_msg.buf;
          struct cmsghdr *cm = CMSG_FIRSTHDR (&msg);
          cm->cmsg_level = SOL_SOCKET;
          cm->cmsg_type = SCM_RIGHTS;
          cm->cmsg_len = CMSG_LEN (sizeof (int));
          memcpy (CMSG_DATA (cm), &fd, sizeof fd);
        }
      if (sendmsg (control, &msg, MSG_NOSIGNAL) < 0)
        _exit (0);
      if (fd >= 0)
        close (fd);
    }
}

const char *
ports_via (struct ports *ports, const char *spec)
{
  char ip[64], keep[8] = "";
  int prefix;
  if (sscanf (spec, "%127[^,],%63[^/]/%d,%7s", ports->via_netns, ip, &prefix, keep) < 3 || (keep[0] && strcmp (keep, "keep") != 0)
      || inet_pton (AF_INET, ip, &ports->via_address) != 1 || prefix < 0 || prefix > 32)
    {
      ports->via_netns[0] = '\0';
      return "bad --publish-via value (NETNS,IP/PREFIX[,keep])";
    }
  ports->via_prefix = prefix;
  ports->via_keep = keep[0] != '\0';
  return NULL;
}

const char *
ports_start_dialer (struct ports *ports, int container, const char *ns_path)
{
  char path[64];
  int pair[2];
  if (ports->n_published == 0)
    return NULL;
  /* The namespace's own file where there is one (it outlives the process: a container that has
     exited already, as `run --detach` may have let it, still has it); else the process's.  */
  snprintf (path, sizeof path, "/proc/%d/ns/net", container);
  int ns = open (ns_path ? ns_path : path, O_RDONLY | O_CLOEXEC);
  /* A process that is gone already has no namespace to serve: its exit is reported as any other.  */
  if (ns < 0 && !ns_path && (errno == ENOENT || errno == ESRCH))
    return NULL;
  /* (Only remote clients go through it: see dialer_loop.)  */
  int via = ports->via_netns[0] && ports->via_keep ? open (ports->via_netns, O_RDONLY | O_CLOEXEC) : -1;
  if (ns < 0 || socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
    {
      if (ns >= 0)
        close (ns);
      if (via >= 0)
        close (via);
      return "cannot open the container's network namespace";
    }
  pid_t pid = fork ();
  if (pid < 0)
    return "fork failed";
  if (pid == 0)
    {
      /* Keep nothing of the monitor's (listeners, clients, pipes): only the control socket.  */
      for (int fd = 3; fd < 1024; fd++)
        if (fd != pair[1] && fd != ns && fd != via)
          close (fd);
      if (setns (ns, CLONE_NEWNET) < 0)
        _exit (1);
      dialer_loop (ports, pair[1], ns, via);
    }
  close (ns);
  if (via >= 0)
    close (via);
  close (pair[1]);
  ports->dialer_fd = pair[0];
  return NULL;
}

/* A socket connected to the container's port (from `client`'s address where the dialer can), or -1.  */
static int
dial (struct ports *ports, int container_port, bool udp, const struct sockaddr_in *client)
{
  struct dial_request request = { .port = (uint16_t) container_port, .udp = udp };
  if (client)
    request.client = *client;
  int err = 0;
  if (ports->dialer_fd < 0 || write (ports->dialer_fd, &request, sizeof request) != sizeof request)
    return -1;
  int fd = recv_fd (ports->dialer_fd, &err, sizeof err);
  if (err && fd >= 0)
    close (fd);
  return err ? -1 : fd;
}

static void
close_relay (struct relay *r)
{
  for (int i = 0; i < 2; i++)
    {
      if (r->fd[i] >= 0)
        close (r->fd[i]);
      for (int j = 0; j < 2; j++)
        if (r->dir[i].pipe[j] > 0)
          close (r->dir[i].pipe[j]);
    }
  memset (r, 0, sizeof *r);
  r->fd[0] = r->fd[1] = -1;
}

static void
accept_published (struct ports *ports, struct published *pub)
{
  int client;
  struct sockaddr_in from;
  socklen_t from_len = sizeof from;
  while ((client = accept4 (pub->fd, (struct sockaddr *) &from, &from_len, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0)
    {
      from_len = sizeof from;
      struct relay *r = NULL;
      for (int i = 0; i < MAX_RELAYS && !r; i++)
        if (ports->relays[i].fd[0] < 0)
          r = &ports->relays[i];
      int backend = r ? dial (ports, pub->container_port, false, &from) : -1;
      if (backend < 0)
        {
          close (client); /* nothing listens in the container (or too many connections): refuse */
          continue;
        }
      fcntl (backend, F_SETFL, O_NONBLOCK);
      r->fd[0] = client;
      r->fd[1] = backend;
      for (int i = 0; i < 2; i++)
        if (pipe2 (r->dir[i].pipe, O_NONBLOCK | O_CLOEXEC) < 0)
          r->dir[i].pipe[0] = r->dir[i].pipe[1] = -1;
        else
          {
            fcntl (r->dir[i].pipe[1], F_SETPIPE_SZ, RELAY_PIPE);
            int cap = fcntl (r->dir[i].pipe[1], F_GETPIPE_SZ);
            r->dir[i].cap = cap > 0 ? (size_t) cap : 65536;
          }
      if (r->dir[0].pipe[0] < 0 || r->dir[1].pipe[0] < 0)
        close_relay (r);
    }
}

/* Moves what it can in one direction; false when the relay must close (an error).  */
static bool
pump_direction (struct relay *r, int i)
{
  struct direction *d = &r->dir[i];
  int from = r->fd[i], to = r->fd[1 - i];
  if (!d->eof && d->len < d->cap && !d->full)
    {
      ssize_t n = splice (from, NULL, d->pipe[1], NULL, d->cap - d->len, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
      if (n > 0)
        d->len += (size_t) n;
      else if (n == 0)
        d->eof = true;
      else if (errno == EAGAIN && d->len > 0)
        d->full = true;
      else if (errno != EAGAIN && errno != EINTR)
        return false;
    }
  while (d->len > 0)
    {
      ssize_t n = splice (d->pipe[0], NULL, to, NULL, d->len, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
      if (n < 0)
        return errno == EAGAIN || errno == EINTR;
      if (n == 0)
        break;
      d->len -= (size_t) n;
      d->full = false;
    }
  if (d->eof && d->len == 0 && !d->shut)
    {
      shutdown (to, SHUT_WR);
      d->shut = true;
    }
  return true;
}

int
ports_poll_fds (const struct ports *ports, struct pollfd *p)
{
  int n = 0;
  if (ports->n_published == 0)
    return 0;
  for (int i = 0; i < ports->n_published; i++)
    p[n++] = (struct pollfd) { ports->published[i].fd, POLLIN, 0 };
  for (int i = 0; i < MAX_FLOWS; i++)
    p[n++] = (struct pollfd) { ports->flows[i].published >= 0 ? ports->flows[i].fd : -1, POLLIN, 0 };
  for (int i = 0; i < MAX_RELAYS; i++)
    for (int j = 0; j < 2; j++)
      {
        const struct relay *r = &ports->relays[i];
        short events = 0;
        if (r->fd[0] >= 0)
          {
            if (r->dir[j].len < r->dir[j].cap && !r->dir[j].full && !r->dir[j].eof)
              events |= POLLIN;
            if (r->dir[1 - j].len > 0)
              events |= POLLOUT;
          }
        p[n++] = (struct pollfd) { r->fd[0] >= 0 ? r->fd[j] : -1, events, 0 };
      }
  return n;
}

void
ports_handle (struct ports *ports, const struct pollfd *p)
{
  if (ports->n_published == 0)
    return;
  for (int i = 0; i < ports->n_published; i++)
    if (p[i].revents & POLLIN)
      {
        if (ports->published[i].udp)
          relay_datagram_in (ports, i);
        else
          accept_published (ports, &ports->published[i]);
      }
  p += ports->n_published;
  for (int i = 0; i < MAX_FLOWS; i++)
    if (ports->flows[i].published >= 0 && (p[i].revents & POLLIN))
      relay_datagram_out (ports, &ports->flows[i]);
  p += MAX_FLOWS;
  for (int i = 0; i < MAX_RELAYS; i++)
    {
      struct relay *r = &ports->relays[i];
      if (r->fd[0] < 0 || !((p[2 * i].revents | p[2 * i + 1].revents) & (POLLIN | POLLOUT | POLLHUP | POLLERR)))
        continue;
      if (!pump_direction (r, 0) || !pump_direction (r, 1) || (r->dir[0].shut && r->dir[1].shut))
        close_relay (r);
    }
}

void
ports_init (struct ports *ports)
{
  ports->n_published = 0;
  ports->dialer_fd = -1;
  ports->via_netns[0] = '\0';
}

void
ports_close (struct ports *ports)
{
  if (ports->n_published == 0)
    return;
  for (int i = 0; i < ports->n_published; i++)
    close (ports->published[i].fd);
  ports->n_published = 0;
  for (int i = 0; i < MAX_RELAYS; i++)
    if (ports->relays[i].fd[0] >= 0)
      close_relay (&ports->relays[i]);
  for (int i = 0; i < MAX_FLOWS; i++)
    if (ports->flows[i].published >= 0)
      {
        close (ports->flows[i].fd);
        ports->flows[i].published = -1;
      }
  if (ports->dialer_fd >= 0)
    close (ports->dialer_fd);
  ports->dialer_fd = -1;
}
