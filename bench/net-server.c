/* net-server MODE PORT: the container side of the network benchmark.
 *   sink: reads each connection to its end, then answers with the byte count.
 *   echo: answers each connection's first read with "pong\n" and closes it.
 * Built statically by bench/network.ts (musl-gcc, else gcc) into the benchmark image.  */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int
main (int argc, char **argv)
{
  static char buf[1 << 20];
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
