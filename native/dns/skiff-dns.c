/* skiff-dns: the name server of skiff's named networks, like aardvark-dns, in one small process.
 *
 *   skiff-dns HOSTS_FILE UPSTREAM_IP EXIT_FD
 *
 * Runs inside the rootless network namespace and listens on UDP port 53 of every address there
 * (each network's gateway).  A query for a name in HOSTS_FILE ("NETWORK_CIDR IP NAME [NAME...]"
 * lines, re-read when it changes) is answered with the address of that name on the asker's own
 * network — containers on other networks do not resolve.  Other queries go to UPSTREAM_IP (slirp4netns's
 * forwarder) when the asker's network is not internal (HOSTS_FILE lines "internal CIDR" mark those).
 * Ends when EXIT_FD (a pipe the namespace's holder keeps open) reports hang-up.  */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_ENTRIES 1024
#define MAX_PENDING 256

struct entry
{
  uint32_t net, mask, ip;
  char name[256];
};

struct pending
{
  uint16_t upstream_id, client_id;
  struct sockaddr_in client;
  time_t at;
  bool used;
};

static struct entry entries[MAX_ENTRIES];
static int n_entries;
static struct
{
  uint32_t net, mask;
} internal[64];
static int n_internal;
static struct pending pending[MAX_PENDING];
static const char *hosts_file;
static struct timespec loaded;

static bool
parse_cidr (const char *cidr, uint32_t *net, uint32_t *mask)
{
  char ip[32];
  int prefix;
  struct in_addr a;
  if (sscanf (cidr, "%31[^/]/%d", ip, &prefix) != 2 || prefix < 0 || prefix > 32 || inet_pton (AF_INET, ip, &a) != 1)
    return false;
  *mask = prefix == 0 ? 0 : htonl (~0u << (32 - prefix));
  *net = a.s_addr & *mask;
  return true;
}

/* Re-reads the hosts file when its modification time changed.  */
static void
load (void)
{
  struct stat st;
  if (stat (hosts_file, &st) < 0 || (st.st_mtim.tv_sec == loaded.tv_sec && st.st_mtim.tv_nsec == loaded.tv_nsec))
    return;
  FILE *f = fopen (hosts_file, "r");
  if (!f)
    return;
  loaded = st.st_mtim;
  n_entries = n_internal = 0;
  char line[4096];
  while (fgets (line, sizeof line, f))
    {
      char *save, *first = strtok_r (line, " \t\n", &save);
      if (!first)
        continue;
      if (strcmp (first, "internal") == 0)
        {
          char *cidr = strtok_r (NULL, " \t\n", &save);
          if (cidr && n_internal < 64 && parse_cidr (cidr, &internal[n_internal].net, &internal[n_internal].mask))
            n_internal++;
          continue;
        }
      uint32_t net, mask;
      struct in_addr ip;
      char *addr = strtok_r (NULL, " \t\n", &save);
      if (!addr || !parse_cidr (first, &net, &mask) || inet_pton (AF_INET, addr, &ip) != 1)
        continue;
      for (char *name; (name = strtok_r (NULL, " \t\n", &save)) && n_entries < MAX_ENTRIES;)
        {
          entries[n_entries] = (struct entry) { net, mask, ip.s_addr, "" };
          snprintf (entries[n_entries].name, sizeof entries[n_entries].name, "%s", name);
          n_entries++;
        }
    }
  fclose (f);
}

/* The question's name as dotted text, and the offset just past the question; 0 if malformed.  */
static size_t
question (const unsigned char *msg, size_t len, char *name, size_t size, uint16_t *qtype)
{
  size_t off = 12, n = 0;
  while (off < len && msg[off] != 0)
    {
      size_t label = msg[off++];
      if (label > 63 || off + label > len || n + label + 2 > size)
        return 0;
      if (n)
        name[n++] = '.';
      memcpy (name + n, msg + off, label);
      n += label;
      off += label;
    }
  if (off + 5 > len)
    return 0;
  name[n] = '\0';
  off++;
  *qtype = (uint16_t) (msg[off] << 8 | msg[off + 1]);
  return off + 4;
}

static bool
is_internal (uint32_t client)
{
  for (int i = 0; i < n_internal; i++)
    if ((client & internal[i].mask) == internal[i].net)
      return true;
  return false;
}

static void
answer (int fd, const struct sockaddr_in *client, unsigned char *msg, size_t qend, const uint32_t *ip, bool nxdomain)
{
  unsigned char out[512];
  if (qend > sizeof out - 16)
    return;
  memcpy (out, msg, qend);
  out[2] = 0x84 | (msg[2] & 0x01); /* response, authoritative, RD copied */
  out[3] = 0x80 | (nxdomain ? 3 : 0);
  out[6] = 0;
  out[7] = ip ? 1 : 0;
  out[8] = out[9] = out[10] = out[11] = 0;
  size_t n = qend;
  if (ip)
    {
      const unsigned char rr[] = { 0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4 };
      memcpy (out + n, rr, sizeof rr);
      n += sizeof rr;
      memcpy (out + n, ip, 4);
      n += 4;
    }
  sendto (fd, out, n, 0, (const struct sockaddr *) client, sizeof *client);
}

int
main (int argc, char **argv)
{
  if (argc != 4)
    {
      fprintf (stderr, "usage: skiff-dns HOSTS_FILE UPSTREAM_IP EXIT_FD\n");
      return 2;
    }
  hosts_file = argv[1];
  struct sockaddr_in upstream = { .sin_family = AF_INET, .sin_port = htons (53) };
  inet_pton (AF_INET, argv[2], &upstream.sin_addr);
  int exit_fd = atoi (argv[3]);
  struct sockaddr_in any = { .sin_family = AF_INET, .sin_port = htons (53), .sin_addr.s_addr = htonl (INADDR_ANY) };
  int fd = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  int up = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || up < 0 || bind (fd, (struct sockaddr *) &any, sizeof any) < 0)
    {
      perror ("skiff-dns: bind :53");
      return 1;
    }
  uint16_t next_id = (uint16_t) getpid ();
  for (;;)
    {
      struct pollfd p[3] = { { fd, POLLIN, 0 }, { up, POLLIN, 0 }, { exit_fd, POLLIN, 0 } };
      if (poll (p, 3, 5000) < 0 && errno != EINTR)
        return 1;
      if (p[2].revents)
        return 0; /* the holder is gone */
      unsigned char msg[1500];
      if (p[0].revents & POLLIN)
        {
          struct sockaddr_in client;
          socklen_t clen = sizeof client;
          ssize_t len = recvfrom (fd, msg, sizeof msg, 0, (struct sockaddr *) &client, &clen);
          char name[256];
          uint16_t qtype;
          size_t qend = len >= 12 ? question (msg, (size_t) len, name, sizeof name, &qtype) : 0;
          if (qend && !(msg[2] & 0x80))
            {
              load ();
              const struct entry *hit = NULL;
              for (int i = 0; i < n_entries && !hit; i++)
                if ((client.sin_addr.s_addr & entries[i].mask) == entries[i].net && strcasecmp (entries[i].name, name) == 0)
                  hit = &entries[i];
              if (hit)
                answer (fd, &client, msg, qend, qtype == 1 || qtype == 255 ? &hit->ip : NULL, false);
              else if (is_internal (client.sin_addr.s_addr) || !strchr (name, '.'))
                answer (fd, &client, msg, qend, NULL, true); /* no way out, or a bare name we do not know */
              else
                {
                  struct pending *slot = NULL;
                  time_t now = time (NULL);
                  for (int i = 0; i < MAX_PENDING && !slot; i++)
                    if (!pending[i].used || now - pending[i].at > 10)
                      slot = &pending[i];
                  if (slot)
                    {
                      *slot = (struct pending) { ++next_id, (uint16_t) (msg[0] << 8 | msg[1]), client, now, true };
                      msg[0] = (unsigned char) (slot->upstream_id >> 8);
                      msg[1] = (unsigned char) slot->upstream_id;
                      sendto (up, msg, (size_t) len, 0, (struct sockaddr *) &upstream, sizeof upstream);
                    }
                }
            }
        }
      if (p[1].revents & POLLIN)
        {
          ssize_t len = recv (up, msg, sizeof msg, 0);
          if (len >= 12)
            {
              uint16_t id = (uint16_t) (msg[0] << 8 | msg[1]);
              for (int i = 0; i < MAX_PENDING; i++)
                if (pending[i].used && pending[i].upstream_id == id)
                  {
                    msg[0] = (unsigned char) (pending[i].client_id >> 8);
                    msg[1] = (unsigned char) pending[i].client_id;
                    sendto (fd, msg, (size_t) len, 0, (struct sockaddr *) &pending[i].client, sizeof pending[i].client);
                    pending[i].used = false;
                    break;
                  }
            }
        }
    }
}
