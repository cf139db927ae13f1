/* sd-notify MESSAGE...: sends the messages, one per line, in one datagram to $NOTIFY_SOCKET, as
 * sd_notify(3) does: what a service in a container says to systemd.  Built static by
 * scripts/test-vm.sh for test/vm/units.sh (the VM's busybox has no such client).  */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

int
main (int argc, char **argv)
{
  const char *path = getenv ("NOTIFY_SOCKET");
  if (!path || strlen (path) >= sizeof ((struct sockaddr_un *) 0)->sun_path)
    {
      fputs ("sd-notify: no NOTIFY_SOCKET\n", stderr);
      return 2;
    }
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  strcpy (addr.sun_path, path);
  if (addr.sun_path[0] == '@')
    addr.sun_path[0] = '\0';
  char text[4096] = "";
  for (int i = 1; i < argc; i++)
    {
      strncat (text, argv[i], sizeof text - strlen (text) - 2);
      strcat (text, "\n");
    }
  int fd = socket (AF_UNIX, SOCK_DGRAM, 0);
  if (fd < 0 || sendto (fd, text, strlen (text), 0, (struct sockaddr *) &addr, sizeof addr) < 0)
    {
      perror ("sd-notify");
      return 1;
    }
  return 0;
}
