/* Published ports the monitor forwards itself (PROTOCOL.md, --publish-tcp and --publish-udp): it
 * listens on the host's ports in the host's network namespace, and a dialer child that has entered
 * the container's network namespace connects to 127.0.0.1:PORT there for each client — or, with
 * --publish-via, one in skiff's rootless network namespace connects to the container's address
 * on its bridge, from the client's own address.  */
#ifndef SKIFF_MONITOR_PORTS_H
#define SKIFF_MONITOR_PORTS_H

#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define MAX_PUBLISHED 64
#define MAX_RELAYS 128
#define MAX_FLOWS 128
/* The most poll entries ports_poll_fds adds.  */
#define PORTS_POLL_MAX (MAX_PUBLISHED + MAX_FLOWS + 2 * MAX_RELAYS)

struct published
{
  int fd;
  int container_port;
  bool udp;
};

/* A UDP client of a published port: its address, and a socket in the container's namespace
   connected to the container port (replies come back on it).  */
struct flow
{
  int published; /* index into published[], -1 when free */
  struct sockaddr_in client;
  int fd;
  time_t last;
};

struct direction
{
  int pipe[2]; /* splice(2) moves the bytes through this pipe, never through user memory */
  size_t len;  /* bytes in the pipe */
  size_t cap;  /* the pipe's capacity */
  bool full;   /* the pipe took no more (its slots are used up): wait for the destination */
  bool eof;    /* the source has ended */
  bool shut;   /* the end was passed on (shutdown of the destination's write side) */
};

/* A TCP connection: the host's client and its connection in the container.  */
struct relay
{
  int fd[2];               /* 0: the host's client, 1: the container's end */
  struct direction dir[2]; /* dir[i] carries fd[i] → fd[1 - i] */
};

struct ports
{
  struct published published[MAX_PUBLISHED];
  int n_published;
  struct flow flows[MAX_FLOWS];
  struct relay relays[MAX_RELAYS];
  int dialer_fd; /* the control socket of the dialer in the container's namespace */
  /* --publish-via: the namespace the dialer enters, the container's address there and its
     network's prefix length; no namespace: the container's own, and 127.0.0.1.  */
  char via_netns[128];
  struct in_addr via_address;
  int via_prefix;
  bool via_keep; /* ",keep": the namespace routes replies to dialled-from-the-client sockets */
};

/* No ports, no connections.  */
void ports_init (struct ports *ports);

/* Binds HOSTIP,HOSTPORT,CONTAINERPORT's host side now, before the container exists, so a taken
   port fails the create.  NULL, or what went wrong.  */
const char *ports_publish (struct ports *ports, const char *spec, bool udp);

/* --publish-via NETNS,IP/PREFIX[,keep]: the dialer enters NETNS (skiff's rootless network namespace,
   where the container's bridge is) and dials IP; with keep, a TCP client that is not on loopback is dialled
   from its own address (IP_TRANSPARENT, marked for the namespace's routing to deliver the replies
   to the dialer's socket: src/network/bridge.ts), so the container sees who connected.  NULL, or
   what is wrong with the value.  */
const char *ports_via (struct ports *ports, const char *spec);

/* Starts the dialer in the container's network namespace (or the --publish-via one); NULL when ready (or nothing is
   published), else what went wrong.  */
const char *ports_start_dialer (struct ports *ports, int container, const char *ns_path);

/* poll entries for the listeners, UDP flows and relays; returns how many were added at p.  */
int ports_poll_fds (const struct ports *ports, struct pollfd *p);

/* Acts on what poll found at the entries ports_poll_fds added.  */
void ports_handle (struct ports *ports, const struct pollfd *p);

/* At the container's exit: frees the host ports and drops every connection.  */
void ports_close (struct ports *ports);

#endif
