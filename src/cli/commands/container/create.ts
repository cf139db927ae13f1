// skiff create IMAGE [COMMAND [ARG...]], and the flags it shares with `run`.
import { Command, Option } from 'commander';
import type { CreateOptions } from '../../../engine/index.js';
import { collect, openEngineFor, parseBool } from '../../engine.js';
import { printLine } from '../../output/print.js';
import { createPullProgress, type Progress } from '../../output/progress.js';

// The flags commander parses: most keep CreateOptions' names and types; these differ (singular
// flag names of repeatable flags, raw strings to convert).
type SameAsOptions = Omit<
  CreateOptions,
  'image' | 'command' | 'labels' | 'stopTimeout' | 'network' | 'moreNetworks' | 'pull' | 'logOpts' | 'dnsOptions' | 'addHosts' | 'networkAliases'
>;
export interface CreateFlags extends SameAsOptions {
  label?: string[];
  stopTimeout?: string;
  network?: string[];
  net?: string[];
  pull?: string;
  quiet?: boolean;
  logOpt?: string[];
  dnsOption?: string[];
  addHost?: string[];
  networkAlias?: string[];
  disableContentTrust?: boolean;
}

// The cgroup limit flags, shared by create, run and update.
export const addLimitOptions = (cmd: Command): Command =>
  cmd
    .option('-m, --memory <bytes>', 'memory limit (512m, 1g): past it, the kernel kills the container (cgroup v2 memory controller)')
    .option('--memory-swap <bytes>', 'memory plus swap limit (-1: unlimited swap)')
    .option('--memory-reservation <bytes>', 'memory soft limit (memory.low)')
    .option('--memory-swappiness <0-100>', "how readily the container's memory is swapped (cgroup v1 only: ignored on v2)")
    .option('--oom-kill-disable', 'do not let the OOM killer kill the container (cgroup v1 only)')
    .option('--oom-score-adj <n>', "adjust the container's OOM score (-1000 to 1000)")
    .option('--cpus <number>', 'CPUs the container may use (0.5: half a CPU)')
    .option('-c, --cpu-shares <weight>', 'relative CPU weight (1024: the default)')
    .option('--cpu-quota <µs>', 'CPU time per --cpu-period, in microseconds')
    .option('--cpu-period <µs>', 'length of a CPU period, in microseconds (default 100000)')
    .option('--cpuset-cpus <list>', 'CPUs the container may run on (0-3, 0,2)')
    .option('--cpuset-mems <list>', 'memory nodes the container may use')
    .option('--pids-limit <n>', 'most processes the container may have (-1: unlimited)')
    .option('--blkio-weight <10-1000>', 'relative block I/O weight')
    .option('--blkio-weight-device <device:weight>', 'relative block I/O weight for one device (/dev/sda:200; io.bfq.weight_device)', collect)
    .option('--cpu-rt-period <µs>', 'realtime period (cgroup v1 only: ignored with a warning on cgroup v2, as Podman)')
    .option('--cpu-rt-runtime <µs>', 'realtime runtime per period (cgroup v1 only: ignored with a warning on cgroup v2, as Podman)')
    .option('--device-read-bps <path:rate>', 'read rate limit for a device (/dev/sda:10mb)', collect)
    .option('--device-write-bps <path:rate>', 'write rate limit for a device', collect)
    .option('--device-read-iops <path:rate>', 'read operations per second limit for a device', collect)
    .option('--device-write-iops <path:rate>', 'write operations per second limit for a device', collect);

export const addCreateOptions = (cmd: Command): Command =>
  addLimitOptions(cmd)
    .argument('<image>', 'the image to run')
    .argument('[command...]', "command and arguments (default: the image's Entrypoint and Cmd)")
    .passThroughOptions()
    .helpOption('--help', 'display help for command')
    .option('--name <name>', 'name of the container')
    .option('--pod <name>', 'refused: skiff has no pods yet')
    .option('--pod-id-file <file>', 'refused: skiff has no pods yet')
    .option('-a, --attach <stream>', 'attach only this stream: stdin, stdout or stderr (repeat for several; run and start -a)', collect)
    .option('--rootfs', 'the first argument is a directory to run as the root, not an image (DIR:O: an overlay on it, which is then not written)')
    .option('--replace', 'replace a container that has the same name')
    .option('--entrypoint <command>', 'override the image\'s entrypoint ("" clears it; a JSON array for several words)')
    .option('-e, --env <KEY=VALUE>', "set an environment variable (KEY alone takes skiff's value)", collect)
    .option('--env-file <file>', 'read environment variables from a file', collect)
    .option('-w, --workdir <dir>', 'working directory inside the container')
    .option('-u, --user <user[:group]>', 'user (name or uid) and group to run as')
    .option('--passwd-entry <template>', 'the /etc/passwd entry added for --user ($USERNAME, $UID, $GID, $NAME, $HOME are filled in)')
    .option('--hostuser <name>', "add this host user's /etc/passwd entry to the container's", collect)
    .option(
      '--systemd <mode>',
      'true (when the command is systemd or an init), false or always: tmpfs on /run, /run/lock, /tmp, /var/log/journal, a writable cgroup, SIGRTMIN+3 to stop',
    )
    .option('-h, --hostname <name>', "the container's hostname")
    .option('-l, --label <key=value>', 'set a label', collect)
    .option('-t, --tty', 'allocate a pseudo-terminal')
    .option('-i, --interactive', 'keep standard input open')
    .option('--rm', 'remove the container when it exits')
    .option('--restart <policy>', 'restart policy: no, on-failure[:N], always, unless-stopped')
    .option('--stop-signal <signal>', "signal that stops the container (default: the image's, else SIGTERM)")
    .option('--stop-timeout <seconds>', 'seconds to wait before killing the container on stop')
    .option('--cap-add <capability>', 'add a capability (or ALL)', collect)
    .option('--cap-drop <capability>', 'drop a capability (or ALL)', collect)
    .option('--privileged', 'all capabilities, no seccomp filter, no masked paths (still confined to your user)')
    .option('--read-only', 'mount the root filesystem read-only')
    .option('--security-opt <option>', 'no-new-privileges, seccomp=unconfined or seccomp=PROFILE.json', collect)
    .option('--tmpfs <path[:options]>', 'mount a tmpfs', collect)
    .option(
      '-v, --volume <[source:]path[:options]>',
      'bind-mount a host path (/, ., ~) or mount a volume (a name; none: anonymous); options ro, rw, nocopy, propagation',
      collect,
    )
    .option('--mount <type=bind|volume|tmpfs,source=…,target=…[,readonly]>', 'mount a host path, a volume or a tmpfs', collect)
    .option('--image-volume <mode>', "what the image's VOLUMEs become: bind (anonymous volumes), tmpfs or ignore", 'bind')
    .option('--volumes-from <container[:ro|rw]>', "mount another container's volumes and bind mounts", collect)
    .option('--read-only-tmpfs [bool]', 'with --read-only, tmpfs on /run, /tmp and /var/tmp (default true)', parseBool)
    .option(
      '--userns <mode>',
      "user namespace: host (skiff's own: root inside is you outside; the default), keep-id[:uid=N,gid=N] (your ids inside too), nomap, auto[:size=N]",
    )
    .option('--uidmap <container:host:size>', "map container uids to ids of skiff's namespace (0 is you)", collect)
    .option('--gidmap <container:host:size>', "map container gids to ids of skiff's namespace (0 is you)", collect)
    .option('--subuidname <name>', "map container uids to NAME's /etc/subuid range (which must lie in yours)")
    .option('--subgidname <name>', "map container gids to NAME's /etc/subgid range (which must lie in yours)")
    .option('--device <host-path[:container-path][:permissions]>', 'bind-mount a host device (read-only without w)', collect)
    .option('--device-cgroup-rule <rule>', "'c|b|a MAJOR:MINOR rwm': accepted with a warning: rootless containers have no device cgroup (as Podman)", collect)
    .option('--chrootdirs <dir>', 'a directory in the container used as a chroot: /etc/hosts and /etc/resolv.conf are mounted there too', collect)
    .option('--init', 'run an init (catatonit) as pid 1 that reaps zombies and forwards signals')
    .option('--ulimit <type=soft[:hard]>', 'a resource limit (nofile=1024:2048, nproc=-1): works on every host', collect)
    .option('--cgroup-conf <file=value>', "write a cgroup v2 file of the container's cgroup (memory.high=1g)", collect)
    .option('--cgroup-parent <parent>', "the container's cgroup parent (a systemd slice, or a cgroupfs path)")
    .option('--cgroupns <mode>', 'cgroup namespace: private (the default on cgroup v2) or host')
    .option('--cgroups <mode>', "enabled (the default), disabled (no cgroup of the container's own), no-conmon, split")
    .option(
      '--network <mode>',
      'network: pasta[:OPTIONS] (default where installed, else slirp4netns; skiff.conf [network] backend chooses), slirp4netns[:cidr=,mtu=,allow_host_loopback=,enable_ipv6=,outbound_addr=,port_handler=], private (the default), bridge (the podman network), none (loopback only), host, container:NAME, ns:PATH, or named networks (repeat for several)',
      collect,
    )
    .option('-p, --publish <[ip:][hostPort:]containerPort[/proto]>', 'publish a container port on the host (ranges, udp; no host port: a free one)', collect)
    .option('-P, --publish-all', 'publish every port the image exposes, each on a free host port')
    .option('--dns <ip>', 'name server for the container', collect)
    .option('--dns-search <domain>', 'DNS search domain', collect)
    .option('--dns-option <option>', 'resolv.conf option', collect)
    .option('--add-host <name:ip>', "add a line to the container's /etc/hosts", collect)
    .option('--network-alias <alias>', 'another name for the container on its named network', collect)
    .addOption(new Option('--net <mode>').hideHelp().argParser(collect))
    .option('--runtime <name|path>', 'OCI runtime: crun or runc')
    .addOption(new Option('--pull <policy>', 'pull the image: missing, always or never').choices(['missing', 'always', 'never']).default('missing'))
    .option('--log-opt <key=value>', 'log option: max-size=SIZE (default 10mb; the log rotates once past it), path=FILE, tag=TAG', collect)
    .option('--log-driver <driver>', 'k8s-file (the default: a log file skiff logs reads) or none')
    .option('-q, --quiet', 'no pull progress')
    .option('--health-cmd <command>', "a healthcheck: a shell command, or a JSON array (none: turn the image's off)")
    .option('--health-interval <duration>', 'time between checks, run by the monitor (default 30s; disable: only `healthcheck run`)')
    .option('--health-retries <n>', 'failures in a row that make the container unhealthy (default 3)')
    .option('--health-start-period <duration>', 'time after the start in which failures do not count (default 0s)')
    .option('--health-timeout <duration>', 'longest a check may take (default 30s)')
    .option('--health-on-failure <action>', 'what an unhealthy container gets: none, kill, restart or stop (default none)')
    .option('--no-healthcheck', "no healthcheck, not even the image's")
    .option('--sdnotify <mode>', 'under a Type=notify systemd unit: container (its READY=1 is passed on), conmon (ready once it runs) or ignore')
    .option('--cidfile <file>', "write the container's id to this file (which must not exist)")
    .option('--tz <zone>', "the container's time zone (Europe/Paris; local: the host's): /etc/localtime and TZ")
    .option('--umask <mask>', "the container's process umask (octal, default 0022)")
    .option('--shm-size <size>', "/dev/shm's size (default 64m)")
    .option('--sysctl <name=value>', 'a namespaced kernel parameter (net.*, kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*)', collect)
    .option('--group-add <group>', "another group for the container's process (a gid or a name in its /etc/group; keep-groups: yours)", collect)
    .option('--no-hosts', "no /etc/hosts of skiff's: the image's own")
    .option('--expose <port[/proto]>', 'a port the container offers (published by -P)', collect)
    .option('--annotation <key=value>', "an annotation in the container's runtime spec", collect)
    .option('--label-file <file>', 'read labels from a file of KEY=VALUE lines', collect)
    .option('--pidfile <file>', "write the container's pid to this file at each start")
    .option('--conmon-pidfile <file>', "write the pid of the container's monitor to this file at each start")
    .option('--env-host', "the host's whole environment in the container's")
    .option('--unsetenv <name>', "leave this variable of skiff's defaults or the image's out", collect)
    .option('--unsetenv-all', "leave all of skiff's default and the image's variables out")
    .option('--env-merge <name=value>', "a variable whose value may use the image's: PATH=${PATH}:/opt/bin", collect)
    .option('--http-proxy [bool]', "pass the host's proxy variables (http_proxy, https_proxy, ...) on (default true)", parseBool)
    .option('--personality <domain>', 'the execution domain: LINUX or LINUX32')
    .option('--ipc <mode>', 'IPC namespace: private (default), host, container:NAME or ns:PATH')
    .option('--pid <mode>', 'PID namespace: private (default), host, container:NAME or ns:PATH')
    .option('--uts <mode>', 'UTS namespace (hostname): private (default), host, container:NAME or ns:PATH')
    .option('--platform <os/arch>', "the image's platform: only this host's (no emulation)")
    .option('--arch <arch>', "the image's architecture: only this host's")
    .option('--os <os>', "the image's OS: linux")
    .option('--variant <variant>', 'accepted with --platform/--arch')
    .option('--seccomp-policy <policy>', 'default (the only one: skiff applies its profile, or --security-opt seccomp=FILE)')
    .option('--authfile <file>', 'registry credentials for pulling the image')
    .option('--tls-verify [bool]', "verify the registry's TLS certificate when pulling (default true)", parseBool)
    .option('--disable-content-trust', 'accepted for Docker scripts (no content trust here)')
    .option('--init-path <path>', 'the init binary for --init (default: catatonit or tini from PATH)')
    .option('--ip <address>', "the container's address on its named network")
    .option('--mac-address <mac>', "the container's interface address on its named network")
    .option('--ip6 <address>', 'refused: named networks are IPv4')
    .option('--timeout <seconds>', 'kill the container once it has run this long (0: never)')
    .option('--requires <containers>', 'containers (comma-separated) started before this one, at each start', collect)
    .option('--rmi', 'remove the image too when the container is removed (implies --rm), unless another container uses it')
    .option(
      '--secret <name[,option=value...]>',
      'add a secret (skiff secret create): a file at /run/secrets/NAME (type=mount, target=PATH, uid=, gid=, mode=) or type=env[,target=VAR]',
      collect,
    );

export const createOptionsFrom = (image: string, command: string[], flags: CreateFlags): CreateOptions => {
  const { label, stopTimeout, network, net, pull, quiet: _quiet, logOpt, dnsOption, addHost, networkAlias, disableContentTrust: _trust, ...same } = flags;
  const networks = network ?? net;
  return {
    ...same,
    image,
    command,
    labels: label,
    stopTimeout: stopTimeout === undefined ? undefined : Number(stopTimeout),
    network: networks?.[0],
    moreNetworks: networks?.slice(1),
    pull: pull as CreateOptions['pull'],
    logOpts: logOpt,
    dnsOptions: dnsOption,
    addHosts: addHost,
    networkAliases: networkAlias,
    // What made it, as Podman records it (`generate systemd --new` makes a unit from it).
    createCommand: ['skiff', ...process.argv.slice(2)],
    systemdUnit: process.env.SKIFF_SYSTEMD_UNIT || undefined,
  };
};

// Pull progress for an image that is missing: on stderr, so stdout keeps only the id. Made on the
// first event: looking at stderr makes Node's stream for it, which a container of an image that is
// here already never needs.
export const pullReporter = (quiet: boolean | undefined): Progress => {
  let progress: Progress | undefined;
  const made = () => (progress ??= createPullProgress({ quiet: Boolean(quiet), tty: process.stderr.isTTY === true }));
  return { onEvent: (event) => made().onEvent(event), finish: () => progress?.finish() };
};

export const build = (name = 'create'): Command =>
  addCreateOptions(new Command(name).description('Create a container without starting it'))
    .option('--init-ctr <type>', 'refused: skiff has no pods yet (init containers run in a pod)')
    .action(async (image: string, command: string[], flags: CreateFlags, cmd: Command) => {
      const engine = await openEngineFor(cmd);
      await engine.enterUserNamespace();
      const pull = pullReporter(flags.quiet);
      const record = await engine.containers.create(createOptionsFrom(image, command, flags), (e) => pull.onEvent(e));
      pull.finish();
      printLine(record.id);
    });
