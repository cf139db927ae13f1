/* The monitor's command line (PROTOCOL.md, "Command line"), parsed once into the options every
 * other part reads.  */
#ifndef SKIFF_MONITOR_CLI_H
#define SKIFF_MONITOR_CLI_H

#include <stdbool.h>

#define MAX_ARGS 64
#define MAX_PUBLISH 64

struct options
{
  const char *cid, *runtime, *bundle, *pid_file, *log_path, *exit_file, *socket_path, *monitor_pid_file;
  const char *exit_command;
  const char *runtime_args[MAX_ARGS];
  int n_runtime_args;
  const char *exit_args[MAX_ARGS];
  int n_exit_args;
  const char *net_helper, *net_ns_path, *net_helper_pid_file;
  bool net_helper_ports;        /* the helper holds host ports: wait for it to end */
  const char *net_helper_adopt; /* the pid of a pasta on the namespace already (the launcher's spare) */
  const char *net_args[MAX_ARGS];
  int n_net_args;
  const char *bridge_attach; /* HOLDER_NETNS,BRIDGE,VETH,DEVICE,IP/PREFIX,GATEWAY|-,MTU[,MAC]: see bridge.h */
  const char *publish_via;   /* NETNS,IP/PREFIX[,keep]: dial the container there (keep: from clients' addresses) */
  const char *publish[MAX_PUBLISH];
  bool publish_udp[MAX_PUBLISH];
  int n_publish;
  const char *health_command; /* run every health_interval_ms once the container runs */
  const char *health_args[MAX_ARGS];
  int n_health_args;
  long long health_interval_ms;
  long long timeout_s;         /* --timeout-s: the container is killed once it has run this long */
  const char *sdnotify_socket; /* the unit's NOTIFY_SOCKET */
  const char *sdnotify_proxy;  /* container mode: the socket the container sends to */
  long long log_size_max;
  bool terminal, open_stdin, start;
  bool own_keyring; /* --own-keyring: not the shared session keyring (the container may use keyctl) */
  int sync_fd, go_fd;
  int preserve_fds; /* --preserve-fds N: fds 3 .. 3+N-1 go to the container's process (the create call only) */
};

/* Fills `opt` from argv; prints the problem and exits 1 on a bad command line.  */
void cli_parse (struct options *opt, int argc, char **argv);

#endif
