/* The healthcheck timer.  The check itself (exec in the container, its timeout, the log of
 * results, health_status events, the action on failure) is the CLI's `healthcheck run`: the
 * monitor only keeps time, so a container's healthcheck needs no systemd timer and no daemon.  */
#define _GNU_SOURCE
#include "health.h"
#include "runtime.h"
#include <fcntl.h>
#include <stdint.h>
#include <sys/timerfd.h>
#include <unistd.h>

void
health_start (struct health *h, const struct options *opt)
{
  h->timer_fd = -1;
  h->running = 0;
  if (!opt->health_command || opt->health_interval_ms <= 0)
    return;
  h->timer_fd = timerfd_create (CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
  if (h->timer_fd < 0)
    return;
  struct timespec every = { opt->health_interval_ms / 1000, (opt->health_interval_ms % 1000) * 1000000 };
  struct itimerspec spec = { .it_interval = every, .it_value = every };
  if (timerfd_settime (h->timer_fd, 0, &spec, NULL) < 0)
    {
      close (h->timer_fd);
      h->timer_fd = -1;
    }
}

void
health_tick (struct health *h, const struct options *opt)
{
  uint64_t expirations;
  if (read (h->timer_fd, &expirations, sizeof expirations) != sizeof expirations || h->running > 0)
    return;
  const char *argv[MAX_ARGS + 2];
  int n = 0;
  argv[n++] = opt->health_command;
  for (int i = 0; i < opt->n_health_args; i++)
    argv[n++] = opt->health_args[i];
  argv[n] = NULL;
  int devnull = open ("/dev/null", O_RDWR | O_CLOEXEC);
  h->running = spawn_process (argv, devnull, devnull, devnull);
  if (devnull >= 0)
    close (devnull);
}

bool
health_reaped (struct health *h, pid_t pid)
{
  if (pid <= 0 || pid != h->running)
    return false;
  h->running = 0;
  return true;
}

void
health_stop (struct health *h)
{
  if (h->timer_fd >= 0)
    close (h->timer_fd);
  h->timer_fd = -1;
}
