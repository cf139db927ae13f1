#ifndef SKIFF_LAUNCHER_STATS_H
#define SKIFF_LAUNCHER_STATS_H

#include <stdbool.h>

/* `skiff stats --no-stream` without Node: its exit code, or -1 (and nothing printed) where Node
   must answer.  */
int fast_stats (int argc, char **argv, int index, const char *runroot);

#endif
