#ifndef SKIFF_LAUNCHER_STATS_H
#define SKIFF_LAUNCHER_STATS_H

#include <stdbool.h>

/* `skiff stats --no-stream` without Node; false (and nothing printed) where Node must answer.  */
bool fast_stats (int argc, char **argv, int index, const char *runroot);

#endif
