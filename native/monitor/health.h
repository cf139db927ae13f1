/* The container's healthcheck timer (PROTOCOL.md, "Healthchecks"): every --health-interval-ms
 * the monitor runs the health command (`skiff healthcheck run ID`), one at a time.  */
#ifndef SKIFF_MONITOR_HEALTH_H
#define SKIFF_MONITOR_HEALTH_H

#include "cli.h"
#include <stdbool.h>
#include <sys/types.h>

struct health
{
  int timer_fd; /* -1 without a healthcheck */
  pid_t running;
};

/* Arms the timer once the container runs (nothing without --health-command).  */
void health_start (struct health *h, const struct options *opt);
/* The timer fired: the command starts unless the last one still runs.  */
void health_tick (struct health *h, const struct options *opt);
/* A child was reaped: true when it was the health command.  */
bool health_reaped (struct health *h, pid_t pid);
void health_stop (struct health *h);

#endif
