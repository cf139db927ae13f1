/* A container on a named network: its network namespace joined to the network's bridge in skiff's
 * rootless network namespace by a veth pair, made here with rtnetlink before the container
 * is created (what src/network/bridge.ts's attach does with `ip` for a running container).  */
#define _GNU_SOURCE
#include "bridge.h"
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* One rtnetlink request: the header, its message and attributes, nested ones included.  */
struct request
{
  struct nlmsghdr *h;
  char buf[1024];
};

static void
start (struct request *r, int type, int flags, const void *msg, size_t len)
{
  memset (r->buf, 0, sizeof r->buf);
  r->h = (struct nlmsghdr *) r->buf;
  r->h->nlmsg_len = NLMSG_LENGTH (len);
  r->h->nlmsg_type = (unsigned short) type;
  r->h->nlmsg_flags = (unsigned short) (NLM_F_REQUEST | NLM_F_ACK | flags);
  memcpy (NLMSG_DATA (r->h), msg, len);
}

static struct rtattr *
add (struct request *r, int type, const void *data, size_t len)
{
  struct rtattr *a = (struct rtattr *) (r->buf + NLMSG_ALIGN (r->h->nlmsg_len));
  a->rta_type = (unsigned short) type;
  a->rta_len = (unsigned short) RTA_LENGTH (len);
  if (len)
    memcpy (RTA_DATA (a), data, len);
  r->h->nlmsg_len = NLMSG_ALIGN (r->h->nlmsg_len) + RTA_ALIGN (a->rta_len);
  return a;
}

static void
add_string (struct request *r, int type, const char *s)
{
  add (r, type, s, strlen (s) + 1);
}

static void
add_u32 (struct request *r, int type, unsigned v)
{
  add (r, type, &v, sizeof v);
}

/* Ends a nested attribute begun with add (r, type, NULL, 0).  */
static void
end_nest (struct request *r, struct rtattr *nest)
{
  nest->rta_len = (unsigned short) (r->buf + r->h->nlmsg_len - (char *) nest);
}

/* Sends the request and reads its acknowledgement: 0, or the kernel's errno.  */
static int
talk (int fd, struct request *r)
{
  if (send (fd, r->buf, r->h->nlmsg_len, 0) < 0)
    return errno;
  char reply[4096];
  ssize_t n = recv (fd, reply, sizeof reply, 0);
  if (n < 0)
    return errno;
  struct nlmsghdr *h = (struct nlmsghdr *) reply;
  if (!NLMSG_OK (h, (unsigned) n) || h->nlmsg_type != NLMSG_ERROR)
    return EPROTO;
  return -((struct nlmsgerr *) NLMSG_DATA (h))->error;
}

static int
rtnetlink (void)
{
  return socket (AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
}

static int
set_up (int fd, int index)
{
  struct request r;
  struct ifinfomsg link = { .ifi_family = AF_UNSPEC, .ifi_index = index, .ifi_flags = IFF_UP, .ifi_change = IFF_UP };
  start (&r, RTM_NEWLINK, 0, &link, sizeof link);
  return talk (fd, &r);
}

static int
parse_mac (const char *text, unsigned char mac[6])
{
  return sscanf (text, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1], &mac[2], &mac[3], &mac[4], &mac[5]) == 6 ? 0 : -1;
}

struct attachment
{
  char holder[256], bridge[IFNAMSIZ], veth[IFNAMSIZ], device[IFNAMSIZ], gateway[64], mac[32];
  struct in_addr address, via;
  int prefix, mtu;
  bool has_gateway;
};

/* In the child: the veth pair from the holder's namespace, then the container's end configured in
   its own.  Returns what failed (errno in *err), or NULL.  */
static const char *
attach_in_child (const struct attachment *a, int container_ns, int *err)
{
  int holder_ns = open (a->holder, O_RDONLY | O_CLOEXEC);
  if (holder_ns < 0 || setns (holder_ns, CLONE_NEWNET) < 0)
    return *err = errno, "cannot enter skiff's rootless network namespace";
  int fd = rtnetlink ();
  unsigned bridge = if_nametoindex (a->bridge);
  if (fd < 0)
    return *err = errno, "netlink";
  if (!bridge)
    return *err = errno, "the network's bridge is missing";
  struct request r;
  /* A veth of that name left by a container of the same id that was killed: it goes.  */
  struct ifinfomsg any = { .ifi_family = AF_UNSPEC };
  start (&r, RTM_DELLINK, 0, &any, sizeof any);
  add_string (&r, IFLA_IFNAME, a->veth);
  talk (fd, &r);
  struct ifinfomsg link = { .ifi_family = AF_UNSPEC, .ifi_flags = IFF_UP, .ifi_change = IFF_UP };
  start (&r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &link, sizeof link);
  add_string (&r, IFLA_IFNAME, a->veth);
  add_u32 (&r, IFLA_MTU, (unsigned) a->mtu);
  add_u32 (&r, IFLA_MASTER, bridge);
  struct rtattr *info = add (&r, IFLA_LINKINFO, NULL, 0);
  add_string (&r, IFLA_INFO_KIND, "veth");
  struct rtattr *data = add (&r, IFLA_INFO_DATA, NULL, 0);
  struct rtattr *peer = add (&r, VETH_INFO_PEER, NULL, 0);
  struct ifinfomsg peer_link = { .ifi_family = AF_UNSPEC };
  memcpy (r.buf + r.h->nlmsg_len, &peer_link, sizeof peer_link);
  r.h->nlmsg_len += NLMSG_ALIGN (sizeof peer_link);
  add_string (&r, IFLA_IFNAME, a->device);
  add_u32 (&r, IFLA_MTU, (unsigned) a->mtu);
  add_u32 (&r, IFLA_NET_NS_FD, (unsigned) container_ns);
  unsigned char mac[6];
  if (a->mac[0] && parse_mac (a->mac, mac) == 0)
    add (&r, IFLA_ADDRESS, mac, sizeof mac);
  end_nest (&r, peer);
  end_nest (&r, data);
  end_nest (&r, info);
  if ((*err = talk (fd, &r)) != 0)
    return "cannot make the container's veth pair";
  close (fd);

  /* The container's side: address, up, lo up, the way out through the gateway.  */
  if (setns (container_ns, CLONE_NEWNET) < 0 || (fd = rtnetlink ()) < 0)
    return *err = errno, "cannot enter the container's network namespace";
  unsigned device = if_nametoindex (a->device), lo = if_nametoindex ("lo");
  if (!device || !lo)
    return *err = errno, "the container's interface is missing";
  struct ifaddrmsg addr = { .ifa_family = AF_INET, .ifa_prefixlen = (unsigned char) a->prefix, .ifa_index = device };
  start (&r, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, &addr, sizeof addr);
  add (&r, IFA_LOCAL, &a->address, sizeof a->address);
  add (&r, IFA_ADDRESS, &a->address, sizeof a->address);
  if ((*err = talk (fd, &r)) != 0)
    return "cannot give the container its address";
  if ((*err = set_up (fd, (int) device)) != 0 || (*err = set_up (fd, (int) lo)) != 0)
    return "cannot bring the container's interfaces up";
  if (a->has_gateway)
    {
      struct rtmsg route
          = { .rtm_family = AF_INET, .rtm_table = RT_TABLE_MAIN, .rtm_protocol = RTPROT_BOOT, .rtm_scope = RT_SCOPE_UNIVERSE, .rtm_type = RTN_UNICAST };
      start (&r, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, &route, sizeof route);
      add (&r, RTA_GATEWAY, &a->via, sizeof a->via);
      add_u32 (&r, RTA_OIF, device);
      if ((*err = talk (fd, &r)) != 0)
        return "cannot route the container's way out";
    }
  return NULL;
}

const char *
bridge_attach (const char *spec, const char *netns_path, char *message, size_t size)
{
  struct attachment a = { 0 };
  char address[64];
  /* HOLDER_NETNS,BRIDGE,VETH,DEVICE,IP/PREFIX,GATEWAY|-,MTU[,MAC] */
  int n = sscanf (spec, "%255[^,],%15[^,],%15[^,],%15[^,],%63[^/]/%d,%63[^,],%d,%31s", a.holder, a.bridge, a.veth, a.device, address, &a.prefix, a.gateway,
                  &a.mtu, a.mac);
  a.has_gateway = strcmp (a.gateway, "-") != 0;
  if (n < 8 || inet_pton (AF_INET, address, &a.address) != 1 || a.prefix < 1 || a.prefix > 32 || a.mtu < 68
      || (a.has_gateway && inet_pton (AF_INET, a.gateway, &a.via) != 1))
    {
      snprintf (message, size, "bad --bridge-attach value (HOLDER_NETNS,BRIDGE,VETH,DEVICE,IP/PREFIX,GATEWAY|-,MTU[,MAC])");
      return message;
    }
  int container_ns = open (netns_path, O_RDONLY | O_CLOEXEC);
  int pipe_fds[2];
  if (container_ns < 0 || pipe2 (pipe_fds, O_CLOEXEC) < 0)
    {
      snprintf (message, size, "cannot open the container's network namespace: %s", strerror (errno));
      return message;
    }
  /* A child does it: the monitor could not come back to the host's network namespace.  */
  pid_t child = fork ();
  if (child == 0)
    {
      int err = 0;
      const char *failed = attach_in_child (&a, container_ns, &err);
      if (failed)
        {
          char text[256];
          int len = snprintf (text, sizeof text, "%s: %s", failed, strerror (err));
          if (write (pipe_fds[1], text, (size_t) len) < 0)
            _exit (2);
          _exit (1);
        }
      _exit (0);
    }
  close (pipe_fds[1]);
  close (container_ns);
  int status = -1;
  ssize_t got = child > 0 ? read (pipe_fds[0], message, size - 1) : -1;
  close (pipe_fds[0]);
  if (child < 0 || waitpid (child, &status, 0) != child || !WIFEXITED (status) || WEXITSTATUS (status) != 0)
    {
      if (got <= 0)
        snprintf (message, size, "cannot join the container to its network's bridge");
      else
        message[got] = '\0';
      return message;
    }
  return NULL;
}
