/* The OCI runtime (crun or runc): run from a sealed copy of its binary while the container is
 * created and started (native/common/sealed-copy.h), and with --go-fd started before the bundle
 * exists and held at the gate (PROTOCOL.md, "The runtime gate") until the go.  Also the spawning of
 * every other program the monitor runs.  */
#ifndef SKIFF_MONITOR_RUNTIME_H
#define SKIFF_MONITOR_RUNTIME_H

#include "cli.h"
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct runtime
{
  const struct options *opt; /* the runtime's path, its global options, the container's id */
  int sealed_fd;             /* the sealed copy, or -1: run it from its path */
  pid_t held;                /* a runtime held at the gate, or -1 */
  int gate_fd;               /* the pipe that holds it (write end), or -1 */
  char gate_path[PATH_MAX];  /* the gate's library, beside this program */
  bool shared_keyring;       /* in skiff's shared session keyring: the runtime makes none */
};

/* Starts argv[0] with stdio in, out, err (-1: inherited), signals as they were before the
   monitor's; -1 when it cannot fork.  */
pid_t spawn_process (const char *const argv[], int in, int out, int err);

/* The runtime of `opt`: not started, no sealed copy yet.  */
void runtime_init (struct runtime *rt, const struct options *opt);

/* Makes the runtime's sealed copy (none when it cannot: the runtime then runs from its path).  */
void runtime_seal (struct runtime *rt);

/* Joins the session keyring all of this user's containers share ("_ses.skiff", made searchable for
   the next monitor), so that the runtime is told --no-new-keyring: a keyring per container would
   spend the kernel's per-user key quota (kernel.keys.maxkeys, maxbytes) at about 100 containers.
   When it cannot be joined the runtime makes a keyring of its own, as before.  */
void runtime_join_keyring (struct runtime *rt);

/* The runtime's command line that creates the container: `create` (or `run --detach` when
   `run_detached`), --no-new-keyring in the shared keyring, --bundle, --pid-file and, with a terminal, --console-socket.  Returns the verb.  */
const char *runtime_create_argv (const struct runtime *rt, const char **argv, bool run_detached, const char *console_path);

/* Starts the runtime with argv and holds it at the gate, when it surely stops there (else it is
   started by runtime_spawn after the go, as without the gate).  */
void runtime_hold (struct runtime *rt, const char *const argv[], int in, int out, int err);

/* Opens the gate: with `go` the held runtime goes on, else it gets end of file and ends at once,
   having done nothing (and is reaped).  */
void runtime_open_gate (struct runtime *rt, bool go);

/* Starts the runtime with argv, from its sealed copy when there is one.  */
pid_t runtime_spawn (const struct runtime *rt, const char *const argv[], int in, int out, int err);
/* runtime_spawn for the create call: with the --preserve-fds descriptors open in the child.  */
pid_t runtime_spawn_create (const struct runtime *rt, const char *const argv[], int in, int out, int err);

/* Runs `RUNTIME [runtime-args] VERB [--force] ID` ("delete" gets --force); its stderr goes to
   `message` when given.  Returns its exit status (0 on success).  */
int runtime_run (const struct runtime *rt, const char *verb, char *message, size_t size);

/* Closes the sealed copy: not kept for the container's life, where its pages would count against
   the container's memory.  */
void runtime_drop_copy (struct runtime *rt);

#endif
