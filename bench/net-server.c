/* net-server MODE PORT: the container side of the network benchmark.
 *   sink: reads each connection to its end, then answers with the byte count.
 *   echo: answers each connection's first read with "pong\n" and closes it.
 * net-server send HOST PORT MIB: connects to HOST:PORT (a name from /etc/hosts, such as
 *   host.containers.internal), sends MIB mebibytes, and waits for the other end to close.
 * Built statically by bench/network.ts (musl-gcc, else gcc) into the benchmark image.  */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* HOST as an IPv4 address, or looked up in /etc/hosts (no resolver library: the binary is static).  */
static int
resolve (const char *host, struct in_addr *out)
{
  if (inet_pton (AF_INET, host, out) == 1)
    return 0;
  char line[512], ip[64], name[256];
  FILE *f = fopen ("/etc/hosts", "r");
  while (f && fgets (line, sizeof line, f))
    {
      int used = 0, at = 0;
      if (sscanf (line, "%63s%n", ip, &used) != 1 || ip[0] == '#')
        continue;
      at = used;
      while (sscanf (line + at, "%255s%n", name, &used) == 1)
        {
          at += used;
          if (strcmp (name, host) == 0 && inet_pton (AF_INET, ip, out) == 1)
            return fclose (f), 0;
        }
    }
  if (f)
    fclose (f);
  return -1;
}

static int
send_to (const char *host, const char *port, long mib)
{
  static char buf[1 << 20];
  struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons ((unsigned short) atoi (port)) };
  int fd = socket (AF_INET, SOCK_STREAM, 0);
  if (resolve (host, &addr.sin_addr) < 0 || connect (fd, (struct sockaddr *) &addr, sizeof addr) < 0)
    {
      perror ("net-server send");
      return 1;
    }
  memset (buf, 'a', sizeof buf);
  for (long i = 0; i < mib; i++)
    for (size_t off = 0; off < sizeof buf;)
      {
        ssize_t n = write (fd, buf + off, sizeof buf - off);
        if (n <= 0)
          {
            fprintf (stderr, "net-server send: write after %ld MiB: %s\n", i, n < 0 ? strerror (errno) : "nothing written");
            return 1;
          }
        off += (size_t) n;
      }
  shutdown (fd, SHUT_WR);
  while (read (fd, buf, sizeof buf) > 0)
    ;
  return 0;
}

int
main (int argc, char **argv)
{
  static char buf[1 << 20];
  if (argc == 5 && strcmp (argv[1], "send") == 0)
    return send_to (argv[2], argv[3], atol (argv[4]));
  int one = 1, fd = socket (AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons (argc > 2 ? atoi (argv[2]) : 80) };
  setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (argc < 2 || bind (fd, (struct sockaddr *) &addr, sizeof addr) < 0 || listen (fd, 128) < 0)
    {
      perror ("net-server");
      return 1;
    }
  int sink = strcmp (argv[1], "sink") == 0;
  for (;;)
    {
      int c = accept (fd, NULL, NULL);
      if (c < 0)
        continue;
      if (sink)
        {
          long long total = 0;
          ssize_t n;
          while ((n = read (c, buf, sizeof buf)) > 0)
            total += n;
          int len = snprintf (buf, sizeof buf, "%lld\n", total);
          write (c, buf, (size_t) len);
        }
      else if (read (c, buf, sizeof buf) > 0)
        write (c, "pong\n", 5);
      close (c);
    }
}
