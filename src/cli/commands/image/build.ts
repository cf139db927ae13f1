// skiff build [flags] CONTEXT: an image from a Dockerfile (or Containerfile), rootless, no daemon.
// Prints Podman's lines: "STEP n/m: …", "--> Using cache ID", "--> ID", "COMMIT NAME", the id.
import { closeSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { Command, Option } from 'commander';
import { CliError } from '../../../errors.js';
import type { BuildEvent } from '../../../engine/builds.js';
import { collect, openEngineFor, parseBool } from '../../engine.js';
import { writeOut } from '../../output/stdout.js';
import { type BuildFlags, buildOptions, type OutputSpec, outputFor, pairs, parseOutput, REFUSED } from './build-flags.js';

const short = (id: string): string => id.replace(/^sha256:/, '').slice(0, 12);

// Podman's lines for each event ("[2/3] STEP 1/4: …" when there is more than one stage), written
// to standard output, or to --logfile (warnings too, as Podman's), or to standard error when the
// tar of --output goes to standard output.
const printer = (quiet: boolean, tag: string | undefined, write: (text: string) => void, warn: (text: string) => void) => {
  return (event: BuildEvent): void => {
    if (quiet) return;
    const stage = (e: { stage: number; stages: number }) => (e.stages > 1 ? `[${e.stage}/${e.stages}] ` : '');
    switch (event.kind) {
      case 'step':
        write(`${stage(event)}STEP ${event.step}/${event.steps}: ${event.text}\n`);
        break;
      case 'cache':
        write(`--> Using cache ${event.id.replace(/^sha256:/, '')}\n--> ${short(event.id)}\n`);
        break;
      case 'layer':
        write(`--> ${short(event.id)}\n`);
        break;
      case 'output':
        write(event.text);
        break;
      case 'commit':
        write(`${stage(event)}COMMIT${tag ? ` ${tag}` : ''}\n`);
        break;
      case 'warning':
        warn(`WARNING: ${event.message}\n`);
        break;
    }
  };
};

// Where the build's lines go: --logfile (--logsplit: LOGFILE_OS_ARCH, the main file left empty, as
// Podman's), standard error when standard output carries a tar, else standard output.
const logTarget = (flags: BuildFlags, output: OutputSpec | undefined, platform: { os: string; architecture: string }) => {
  if (flags.logsplit && !flags.logfile) throw new CliError('EUSAGE', '--logsplit splits --logfile by platform: give --logfile too');
  if (flags.logfile) {
    const open = (path: string) => {
      try {
        return openSync(path, 'w', 0o600);
      } catch (error) {
        throw new CliError('EUSAGE', `--logfile ${path}: ${(error as Error).message}`);
      }
    };
    const main = open(flags.logfile);
    const fd = flags.logsplit ? open(`${flags.logfile}_${platform.os}_${platform.architecture}`) : main;
    const write = (text: string) => writeSync(fd, text);
    return { write, warn: write, close: () => [...new Set([main, fd])].forEach((f) => closeSync(f)) };
  }
  const toStderr = output?.type === 'tar' && output.dest === '-';
  const write = toStderr ? (text: string) => process.stderr.write(text) : (text: string) => writeOut(text);
  return { write, warn: (text: string) => process.stderr.write(text), close: () => undefined };
};

export const build = (name = 'build'): Command =>
  new Command(name)
    .description('Build an image from a Containerfile or Dockerfile')
    .argument('[context]', 'the build context directory', '.')
    .option('-t, --tag <name>', 'name the image (repeatable)', collect)
    .option('-f, --file <path>', 'the Containerfile or Dockerfile (- reads standard input)')
    .option('--build-arg <key=value>', 'set a build argument (repeatable)', collect)
    .option('--build-arg-file <path>', 'build arguments from a file of KEY=VALUE lines', collect)
    .option('--target <stage>', 'build up to this stage')
    .option('--no-cache', 'run every step, using no cached one')
    .addOption(new Option('--pull [policy]', 'pull base images: always, missing, never or newer (default missing)'))
    .option('--label <key=value>', 'a label on the image (repeatable)', collect)
    .option('-q, --quiet', 'print only the image id')
    .option('--layers [bool]', 'keep each step as a cached layer', parseBool, true)
    .option('--iidfile <path>', 'write the image id to this file')
    .option('--network <mode>', 'the network of RUN steps (none, host, pasta, slirp4netns, a named network)')
    .option('--jobs <n>', 'stages built at once (default: the CPU count)')
    .option('--timestamp <seconds>', 'set every created time to this (a rebuild gives the same id)')
    .option('--ignorefile <path>', 'the ignore file (default .containerignore or .dockerignore in the context)')
    .addOption(new Option('--format <format>', 'the manifest format: docker (the default) or oci').choices(['oci', 'docker']))
    .option('--annotation <key=value>', 'an annotation on the manifest (--format oci; repeatable)', collect)
    .option('--platform <os/arch[/variant]>', "the platform to build for: FROM takes its image (RUN steps need this host's, or an emulator)")
    .option('--arch <arch>', 'the architecture to build for (as --platform)')
    .option('--os <os>', 'the OS to build for (as --platform)')
    .option('--variant <variant>', 'the architecture variant to build for (as --platform)')
    .option('--os-version <version>', "the OS version the image requires (the config's os.version)")
    .option('--os-feature <feature>', 'an OS feature the image requires (FEATURE- takes one away; repeatable)', collect)
    .option('--all-platforms', 'refused: one image per platform makes a manifest list, which skiff cannot write yet')
    .option('--manifest <list>', 'refused: skiff cannot write manifest lists yet')
    .option('--from <image>', 'the image the first FROM takes instead of its own')
    .option('--env <key=value>', "a variable in the image's config, over the Dockerfile's ENV (KEY alone: its value here; repeatable)", collect)
    .option('--identity-label [bool]', 'label the image io.skiff.version (default true)', parseBool, true)
    .option('--omit-history', 'leave the history out of the image')
    .option('-o, --output <dest>', "write the image's files out too: DIR, type=local,dest=DIR, type=tar,dest=FILE or - (a tar on standard output)")
    .option('--logfile <path>', 'write the build output to this file instead of standard output')
    .option('--logsplit', 'with --logfile: write to LOGFILE_OS_ARCH, per platform')
    .option('--stdin', 'pass standard input to RUN steps')
    .option('--authfile <path>', 'auth file for pulling the base images')
    .option('--creds <user:password>', 'credentials for pulling the base images')
    .option('--tls-verify [bool]', "verify the registries' certificates (default true)", parseBool)
    .option('--cert-dir <dir>', 'CA certificates (*.crt) and a client key pair (*.cert, *.key) for the registries')
    .option('--retry <n>', 'retries of a failed pull (default 3)')
    .option('--retry-delay <duration>', 'the wait between retries (2s; default: a backoff from 0.5s)')
    .option('--cache-from <repository>', "a registry repository to take cached steps from (tags: the steps' cache keys)")
    .option('--cache-to <repository>', 'a registry repository to push each new step to, as a cache')
    .option('--compress', 'accepted for Podman scripts: a legacy option without effect (see --disable-compression)')
    .option(
      '-D, --disable-compression [bool]',
      'keep new layers uncompressed in the store: push compresses them (default true)',
      (value: string) => parseBool(value.replace(/^=/, '')), // (-D=false reaches here as "=false")
      true,
    )
    .option('--cpp-flag <flag>', 'a flag for cpp, which a Containerfile named *.in goes through (repeatable)', collect)
    .option('--decryption-key <key>', 'refused: skiff has no encrypted images', collect)
    .option('--sign-by <fingerprint>', 'refused: skiff does not sign images')
    .option('--hooks-dir <dir>', 'refused: skiff does not run OCI hooks yet', collect)
    .option('--runtime-flag <flag>', "a global option for RUN steps' OCI runtime (debug: --debug; repeatable)", collect)
    .option('--userns-uid-map <container:host:size>', "RUN steps' uid map (HOST counts from 0, you; repeatable)", collect)
    .option('--userns-gid-map <container:host:size>', "RUN steps' gid map (repeatable)", collect)
    .option('--userns-uid-map-user <name>', "RUN steps' uid map: NAME's ranges in /etc/subuid")
    .option('--userns-gid-map-group <name>', "RUN steps' gid map: NAME's ranges in /etc/subgid")
    .option('--cache-ttl <duration>', 'use cached steps made within this long (10m, 24h; 0: none)')
    .option('--squash', 'one layer for what this build adds on its base')
    .option('--squash-all', 'one layer for the whole image, its base included')
    .option('--build-context <name=value>', 'a named context for FROM and COPY --from: a directory or docker-image://REF', collect)
    .option('-v, --volume <host:container[:options]>', 'bind-mount into every RUN step (repeatable)', collect)
    .option('--add-host <host:ip>', 'an /etc/hosts line for RUN steps (repeatable)', collect)
    .option('--cap-add <cap>', 'a capability for RUN steps (repeatable)', collect)
    .option('--cap-drop <cap>', 'a capability RUN steps do without (repeatable)', collect)
    .option('--device <host-path[:container-path][:permissions]>', 'a host device for RUN steps (repeatable)', collect)
    .option('--dns <ip>', 'a DNS server for RUN steps (repeatable)', collect)
    .option('--dns-option <option>', 'a resolv.conf option for RUN steps (repeatable)', collect)
    .option('--dns-search <domain>', 'a DNS search domain for RUN steps (repeatable)', collect)
    .option('--security-opt <option>', 'a security option for RUN steps (repeatable)', collect)
    .option('--ulimit <type=soft[:hard]>', 'a resource limit for RUN steps (repeatable)', collect)
    .option('--runtime <path|name>', 'the OCI runtime RUN steps run under')
    .option('-m, --memory <bytes>', 'memory limit for RUN steps (512m, 1g)')
    .option('--memory-swap <bytes>', 'memory plus swap limit for RUN steps')
    .option('--cpu-period <µs>', 'CPU period for RUN steps')
    .option('--cpu-quota <µs>', 'CPU time per period for RUN steps')
    .option('-c, --cpu-shares <weight>', 'relative CPU weight of RUN steps')
    .option('--cpuset-cpus <list>', 'CPUs RUN steps may run on')
    .option('--cpuset-mems <list>', 'memory nodes RUN steps may use')
    .option('--shm-size <size>', "RUN steps' /dev/shm size (default 64m)")
    .option('--no-hosts', "no /etc/hosts of skiff's in RUN steps")
    .option('--ipc <mode>', "RUN steps' IPC namespace: private, host, container:NAME or ns:PATH")
    .option('--pid <mode>', "RUN steps' PID namespace: private, host, container:NAME or ns:PATH")
    .option('--uts <mode>', "RUN steps' UTS namespace: private, host, container:NAME or ns:PATH")
    .option('--unsetenv <name>', "leave this variable of skiff's defaults out of RUN steps", collect)
    .option('--http-proxy [bool]', "pass the host's proxy variables to RUN steps (default true)", parseBool)
    .option('--cgroup-parent <parent>', "RUN steps' cgroup parent")
    .option('--cgroupns <mode>', "RUN steps' cgroup namespace: private or host")
    .option('--userns <mode>', "RUN steps' user namespace, as run's --userns")
    .option('--disable-content-trust', 'accepted for Docker scripts (no content trust here)')
    .option('--isolation <kind>', "oci (the only one: RUN steps run in the OCI runtime's containers)")
    .option('--skip-unused-stages [bool]', 'stages the target does not need are not built (always, as BuildKit)', parseBool)
    .option('--secret <id=ID,src=FILE>', 'a secret for RUN --mount=type=secret (repeatable)', collect)
    .option('--rm [bool]', 'remove the build containers after each step (always)', parseBool, true)
    .option('--force-rm [bool]', 'remove the build containers after a failure too (always)', parseBool, true)
    .action(async (context: string, flags: BuildFlags, cmd: Command) => {
      for (const [flag, message] of Object.entries(REFUSED)) if (flags[flag as keyof BuildFlags] !== undefined) throw new CliError('EUSAGE', message);
      if (flags.isolation !== undefined && flags.isolation !== 'oci' && flags.isolation !== 'default')
        throw new CliError('EUSAGE', `--isolation ${flags.isolation} is not supported: RUN steps run in the OCI runtime's containers (oci)`);
      if (flags.stdin && flags.file === '-')
        throw new CliError('EUSAGE', '--stdin passes standard input to RUN steps: the Dockerfile cannot come from it too (-f -)');
      const output = flags.output !== undefined ? parseOutput(flags.output) : undefined;
      const engine = await openEngineFor(cmd);
      await engine.enterUserNamespace();
      const annotations = pairs(flags.annotation ?? [], '--annotation', false);
      if (Object.keys(annotations).length && flags.format !== 'oci')
        process.stderr.write('WARNING: annotations are written in OCI manifests only: add --format oci, or they are left out\n');
      const controller = new AbortController();
      const interrupt = () => controller.abort();
      const options = { ...buildOptions(context, flags, annotations), ...(output ? { output: outputFor(output) } : {}), signal: controller.signal };
      const builds = await engine.builds();
      const log = logTarget(flags, output, builds.platformOf(options));
      process.once('SIGINT', interrupt);
      process.once('SIGTERM', interrupt);
      try {
        const report = await builds.build(options, printer(Boolean(flags.quiet), flags.tag?.[0], log.write, log.warn));
        if (!flags.quiet) {
          log.write(`--> ${short(report.id)}\n`);
          for (const n of report.names) log.write(`Successfully tagged ${n}\n`);
        }
        // (The id goes where the lines went: --logfile takes it too, as Podman's does.)
        log.write(`${report.id.replace(/^sha256:/, '')}\n`);
        if (flags.iidfile) writeFileSync(flags.iidfile, report.id);
      } finally {
        log.close();
        process.off('SIGINT', interrupt);
        process.off('SIGTERM', interrupt);
      }
    });
