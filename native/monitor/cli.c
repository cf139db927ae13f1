/* The monitor's command line (PROTOCOL.md, "Command line"), parsed once into the options every
 * other part reads.  A bad command line is the CLI's bug: it is said on stderr, and the monitor
 * exits 1 before it has done anything.  */
#include "cli.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
die (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  fputs ("skiff-monitor: ", stderr);
  vfprintf (stderr, fmt, ap);
  fputc ('\n', stderr);
  va_end (ap);
  exit (1);
}

void
cli_parse (struct options *opt, int argc, char **argv)
{
  for (int i = 1; i < argc; i++)
    {
      const char *a = argv[i];
      const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define TAKE(name, field)               \
  if (strcmp (a, name) == 0)            \
    {                                   \
      if (!v)                           \
        die ("%s needs a value", name); \
      field = v;                        \
      i++;                              \
      continue;                         \
    }
      TAKE ("--cid", opt->cid);
      TAKE ("--runtime", opt->runtime);
      TAKE ("--bundle", opt->bundle);
      TAKE ("--pid-file", opt->pid_file);
      TAKE ("--log-path", opt->log_path);
      TAKE ("--exit-file", opt->exit_file);
      TAKE ("--socket-path", opt->socket_path);
      TAKE ("--monitor-pid-file", opt->monitor_pid_file);
      TAKE ("--exit-command", opt->exit_command);
      TAKE ("--net-helper", opt->net_helper);
      TAKE ("--net-ns-path", opt->net_ns_path);
      TAKE ("--net-helper-pid-file", opt->net_helper_pid_file);
      TAKE ("--net-helper-adopt", opt->net_helper_adopt);
      TAKE ("--health-command", opt->health_command);
      TAKE ("--sdnotify-socket", opt->sdnotify_socket);
      TAKE ("--sdnotify-proxy", opt->sdnotify_proxy);
      TAKE ("--publish-via", opt->publish_via);
      TAKE ("--bridge-attach", opt->bridge_attach);
#undef TAKE
      if (strcmp (a, "--runtime-arg") == 0 && v && opt->n_runtime_args < MAX_ARGS - 16)
        opt->runtime_args[opt->n_runtime_args++] = argv[++i];
      else if (strcmp (a, "--exit-command-arg") == 0 && v && opt->n_exit_args < MAX_ARGS)
        opt->exit_args[opt->n_exit_args++] = argv[++i];
      else if (strcmp (a, "--health-command-arg") == 0 && v && opt->n_health_args < MAX_ARGS)
        opt->health_args[opt->n_health_args++] = argv[++i];
      else if (strcmp (a, "--health-interval-ms") == 0 && v)
        opt->health_interval_ms = atoll (argv[++i]);
      else if (strcmp (a, "--timeout-s") == 0 && v)
        opt->timeout_s = atoll (argv[++i]);
      else if (strcmp (a, "--net-helper-arg") == 0 && v && opt->n_net_args < MAX_ARGS - 2)
        opt->net_args[opt->n_net_args++] = argv[++i];
      else if ((strcmp (a, "--publish-tcp") == 0 || strcmp (a, "--publish-udp") == 0) && v && opt->n_publish < MAX_PUBLISH)
        {
          opt->publish_udp[opt->n_publish] = a[10] == 'u';
          opt->publish[opt->n_publish++] = argv[++i];
        }
      else if (strcmp (a, "--log-size-max") == 0 && v)
        opt->log_size_max = atoll (argv[++i]);
      else if (strcmp (a, "--sync-fd") == 0 && v)
        opt->sync_fd = atoi (argv[++i]);
      else if (strcmp (a, "--go-fd") == 0 && v)
        opt->go_fd = atoi (argv[++i]);
      else if (strcmp (a, "--preserve-fds") == 0 && v)
        opt->preserve_fds = atoi (argv[++i]);
      else if (strcmp (a, "--own-keyring") == 0)
        opt->own_keyring = true;
      else if (strcmp (a, "--terminal") == 0)
        opt->terminal = true;
      else if (strcmp (a, "--start") == 0)
        opt->start = true;
      else if (strcmp (a, "--net-helper-ports") == 0)
        opt->net_helper_ports = true;
      else if (strcmp (a, "--stdin") == 0)
        opt->open_stdin = true;
      else
        die ("unknown or incomplete option %s", a);
    }
  if (!opt->cid || !opt->runtime || !opt->bundle || !opt->pid_file || !opt->log_path || !opt->exit_file || !opt->socket_path)
    die ("usage: skiff-monitor --cid ID --runtime PATH --bundle DIR --pid-file F --log-path F --exit-file F --socket-path S [...]");
}
