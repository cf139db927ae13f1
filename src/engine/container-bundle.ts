// A container's bundle: its OCI runtime spec (from its recorded configuration, its user resolved
// in its own root) and the /etc files it gets (hostname, hosts, resolv.conf).
import { constants, fstatSync, lchownSync, readSync, realpathSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { cgroupVersion } from '../cgroups/detect.js';
import { CliError } from '../errors.js';
import { networkMode } from '../network/modes.js';
import { resolvConf } from '../network/etc.js';
import { addedAccounts, groupIds, hostAccount, resolveUser } from '../oci/passwd.js';
import { generateSpec, type Mount, type SpecInput } from '../oci/spec.js';
import type { ContainerRecord } from '../state/containers.js';
import { findHelperBinary } from '../util/exec.js';
import { writeAllSync, writeFileAtomic } from '../util/fs.js';
import { ACCOUNTS_FILE_MAX } from '../util/limits.js';
import type { ContainerNetworks } from './container-networks.js';
import { chownMounts, overlayDir, runtimeMounts } from './container-mounts.js';
import type { EngineContext } from './context.js';
import { keepIdAccounts } from './container-userns.js';
import { specCgroups } from './container-cgroups.js';
import { notifyPlan } from './container-launch.js';
import { addSpecHooks } from './container-hooks.js';
import { outerIds, rootOwner } from '../util/idmap.js';
import { VERSION } from '../version.js';
import { closeQuietly, mkdirInRoot, openInRootIfExists, readFileInRoot } from '../util/in-root.js';
import { mergeEnv } from './container-config.js';
import { secretMounts } from './container-secrets.js';

// --tz: the host's zoneinfo file for the zone (the host's own for "local"), as /etc/localtime. No
// TZ variable: a C library that finds no zoneinfo directory would read a zone name as a POSIX rule.
const timeZone = (tz: string | undefined): { file: string } | undefined =>
  tz === undefined ? undefined : { file: realpathSync(tz === 'local' ? '/etc/localtime' : join('/usr/share/zoneinfo', tz)) };

// --ipc/--pid/--uts of another container (its process's namespace, which it must be running to
// have), a namespace file, or the host's.
const sharedNamespaces = (ctx: EngineContext, modes: NonNullable<ContainerRecord['config']['sharedNamespaces']>): SpecInput['shared'] => {
  const resolved: SpecInput['shared'] = {};
  for (const type of ['ipc', 'pid', 'uts'] as const) {
    const mode = modes[type];
    if (!mode) continue;
    if (mode === 'host') resolved[type] = 'host';
    else if (mode.startsWith('ns:')) resolved[type] = { path: mode.slice(3) };
    else {
      const other = ctx.containers.find(mode.slice('container:'.length));
      const state = ctx.containers.effectiveState(other.id);
      if (state.status !== 'running' || !state.pid)
        throw new CliError('ESTATE', `--${type} ${mode}: ${other.name} is ${state.status}, so it has no namespace to share: start it first`);
      resolved[type] = { path: `/proc/${state.pid}/ns/${type}` };
    }
  }
  return resolved;
};

// Appends `text` to a file of the container's root (made, owned by `owner`, when missing): the
// path resolved inside the root; anything but a regular file there is refused.
const appendInRoot = (rootfs: string, path: string, text: string, owner: { uid: number; gid: number } | undefined): void => {
  const fd = openInRootIfExists(rootfs, path, constants.O_RDWR | constants.O_APPEND | constants.O_NONBLOCK | constants.O_NOCTTY);
  if (fd === undefined) {
    const dir = mkdirInRoot(rootfs, dirname(path));
    try {
      const file = `/proc/self/fd/${dir}/${basename(path)}`;
      writeFileSync(file, text, { flag: 'wx', mode: 0o644 });
      if (owner) lchownSync(file, owner.uid, owner.gid);
    } catch (error) {
      // (A link that leads nowhere inside the root: never followed out of it.)
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      throw new CliError('EUSAGE', `the container's ${path} is a link that leads nowhere in it: no account can be added to it (--passwd=false)`);
    } finally {
      closeQuietly(dir);
    }
    return;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new CliError('EUSAGE', `the container's ${path} is not a regular file: no account can be added to it (--passwd=false)`);
    const last = Buffer.alloc(1);
    const ends = st.size === 0 || (readSync(fd, last, 0, 1, st.size - 1) === 1 && last[0] === 10);
    writeAllSync(fd, `${ends ? '' : '\n'}${text}`);
  } finally {
    closeQuietly(fd);
  }
};

// --user, --hostuser: the /etc/passwd and /etc/group entries Podman adds (oci/passwd.ts), appended
// to the container's own files (useradd in it keeps working; the next start finds them there), or
// on a read-only root to copies in `userdata` mounted over them. None with --passwd=false, a keep-id
// account, or a mount of the user's own over the file.
const accountsFor = (
  record: ContainerRecord,
  rootfs: string,
  userdata: string,
  taken: string[],
  root: { uid: number; gid: number } | undefined,
): { mounts: Mount[]; added: { passwd?: string; group?: string }; home?: string } => {
  const c = record.config;
  const none = { mounts: [], added: {} };
  if (c.noPasswd || (!c.user && !c.hostUsers?.length)) return none;
  const hostUsers = (c.hostUsers ?? []).map((name) => {
    const found = hostAccount(name);
    if (!found) throw new CliError('EUSAGE', `--hostuser ${name}: no such user in this host's /etc/passwd`);
    return found;
  });
  const plan = addedAccounts(rootfs, { user: c.user, workdir: c.workdir, template: c.passwdEntry, hostUsers, mountPoints: taken });
  const mounts: Mount[] = [];
  const added: { passwd?: string; group?: string } = {};
  for (const [file, text] of [
    ['passwd', plan.passwd],
    ['group', plan.group],
  ] as const) {
    if (!text || taken.includes(`/etc/${file}`)) continue;
    if (!c.readOnly) {
      appendInRoot(rootfs, `/etc/${file}`, text, root);
      continue;
    }
    const original = readFileInRoot(rootfs, `etc/${file}`, { what: `the container's /etc/${file}`, limit: ACCOUNTS_FILE_MAX, code: 'EUSAGE' });
    const before = original?.toString('utf8') ?? '';
    const copy = join(userdata, file);
    writeFileSync(copy, `${before}${before && !before.endsWith('\n') ? '\n' : ''}${text}`, { mode: 0o644 });
    if (root) lchownSync(copy, root.uid, root.gid);
    mounts.push({ destination: `/etc/${file}`, type: 'bind', source: copy, options: ['bind', 'rprivate'] });
    added[file] = text;
  }
  return { mounts, added, ...(plan.home ? { home: plan.home } : {}) };
};

// `secretEnv`: the container's env secrets (VAR=DATA), looked up for this start.
export const writeBundle = (ctx: EngineContext, networking: ContainerNetworks, record: ContainerRecord, rootfs: string, secretEnv: string[] = []): void => {
  const store = ctx.containers;
  const dir = store.containerDir(record.id);
  const userdata = join(dir, 'userdata');
  const c = record.config;
  writeFileSync(join(userdata, 'hostname'), `${c.hostname}\n`);
  // /run/.containerenv, as Podman's: there in every container (tools look for it), and saying what
  // runs it only to a privileged one.
  const containerenv = c.privileged
    ? `engine="skiff-${VERSION}"\nname="${record.name}"\nid="${record.id}"\nimage="${record.image}"\nimageid="${record.imageId.replace(/^sha256:/, '')}"\nrootless=1\n`
    : '';
  writeFileSync(join(userdata, 'containerenv'), containerenv);
  writeFileSync(join(userdata, 'hosts'), networking.hostsFor(record));
  // Sharing another container's network means sharing its name servers too. Named networks ask
  // skiff-dns at their gateway (container names, then upstream); slirp4netns answers at 10.0.2.3.
  const shared = c.network.startsWith('container:') ? store.find(c.network.slice('container:'.length)).config : c;
  const named = shared.namedNetwork ? ctx.networks.get(shared.network) : undefined;
  writeFileSync(join(userdata, 'resolv.conf'), resolvConf(c, networkMode(shared).nameserver(named?.gateway)));
  const init = c.init ? (c.initPath ?? findHelperBinary('catatonit') ?? findHelperBinary('tini-static') ?? findHelperBinary('tini')) : undefined;
  if (c.init && !init) throw new CliError('EHELPER', '--init needs catatonit or tini on the host: apt-get install catatonit');
  const mappings = c.idMappings;
  // In a user namespace of its own, root there owns the /etc files (else they would be nobody's).
  const root = rootOwner(mappings);
  if (root) for (const f of ['hostname', 'hosts', 'resolv.conf', 'containerenv']) lchownSync(join(userdata, f), root.uid, root.gid);
  const accounts = mappings ? keepIdAccounts(record, rootfs, userdata, mappings) : { mounts: [] };
  const userMounts = runtimeMounts(ctx.volumes, c.mounts ?? [], (m) => join(overlayDir(dir, c.mounts ?? [], m), 'merged'));
  const added = accounts.mounts.length
    ? { mounts: [], added: {} }
    : accountsFor(record, rootfs, userdata, [...userMounts.map((m) => m.destination), ...c.tmpfs.map((t) => t.split(':')[0]!)], root);
  const user = resolveUser(rootfs, c.user, added.added);
  const owner = outerIds(mappings, user);
  chownMounts(ctx.volumes, c.mounts ?? [], owner.uid, owner.gid);
  // The working directory: made when it is missing (as Podman does); one that is no directory
  // cannot be entered (126, as Podman).
  if (c.workdir !== '/') {
    try {
      closeQuietly(mkdirInRoot(rootfs, c.workdir, root));
    } catch (error) {
      throw new CliError('EUSAGE', `cannot enter the working directory ${c.workdir}: it is not a directory in the container`, { exitCode: 126, cause: error });
    }
  }
  const home = accounts.home ?? added.home ?? user.home;
  // --sdnotify=container under a unit: the monitor's socket for the container, at /run/notify.
  const proxy = notifyPlan(ctx, record)?.proxy;
  const withHome = home && !c.env.some((e) => e.startsWith('HOME=')) ? [...c.env, `HOME=${home}`] : c.env;
  const env = secretEnv.length ? mergeEnv(withHome, secretEnv) : withHome;
  const tz = timeZone(c.tz);
  const groupAdd = c.groupAdd?.filter((g) => g !== 'keep-groups') ?? [];
  const withGroups = groupAdd.length ? { ...user, additionalGids: [...new Set([...user.additionalGids, ...groupIds(rootfs, groupAdd)])] } : user;
  const etcFiles: Record<string, string> = {
    '/etc/hostname': join(userdata, 'hostname'),
    '/etc/hosts': join(userdata, 'hosts'),
    '/etc/resolv.conf': join(userdata, 'resolv.conf'),
    '/run/.containerenv': join(userdata, 'containerenv'),
  };
  if (c.noHosts) delete etcFiles['/etc/hosts'];
  // --chrootdirs: a chroot there sees the same hosts and name servers (Podman's mountIntoRootDirs).
  for (const chroot of c.chrootDirs ?? [])
    for (const file of ['/etc/hosts', '/etc/resolv.conf']) if (etcFiles[file]) etcFiles[join(chroot, file)] = etcFiles[file];
  const spec = generateSpec({
    hostname: c.hostname,
    rootfs,
    args: [...c.entrypoint, ...c.cmd],
    env: [
      ...env,
      ...(proxy ? ['NOTIFY_SOCKET=/run/notify/notify.sock'] : []),
      // (systemd takes its machine id from it, as in Podman's containers.)
      ...(c.systemd && !env.some((e) => e.startsWith('container_uuid=')) ? [`container_uuid=${record.id.slice(0, 32)}`] : []),
    ],
    cwd: c.workdir,
    user: withGroups,
    terminal: c.tty,
    capAdd: c.capAdd,
    capDrop: c.capDrop,
    ...(c.defaultCapabilities ? { defaultCapabilities: c.defaultCapabilities } : {}),
    privileged: c.privileged,
    readOnly: c.readOnly,
    noNewPrivileges: c.noNewPrivileges,
    seccomp: c.seccomp,
    tmpfs: c.tmpfs,
    binds: [
      ...accounts.mounts,
      ...added.mounts,
      ...userMounts,
      ...secretMounts(userdata, c.secrets ?? []),
      // Read-only: sending to the socket needs no write access to its file system, and a container
      // must not write into the user's runtime directory.
      ...(proxy
        ? [{ destination: '/run/notify', type: 'bind', source: dirname(proxy), options: ['bind', 'rprivate', 'ro', 'nosuid', 'nodev', 'noexec'] }]
        : []),
      ...(tz ? [{ destination: '/etc/localtime', type: 'bind', source: tz.file, options: ['bind', 'rprivate', 'ro'] }] : []),
      ...(c.devices ?? []).map((d) => ({
        destination: d.destination,
        type: 'bind',
        source: d.source,
        options: ['bind', 'rprivate', d.readOnly ? 'ro' : 'rw'],
      })),
    ],
    readOnlyTmpfs: c.readOnlyTmpfs !== false,
    ...(c.systemd ? { systemd: true } : {}),
    init,
    network: networkMode(c).namespace({ netnsPath: store.netnsPath(record.id), pastaPidFile: '', slirpSocket: '' }, () =>
      networking.sharedNetns(c.network.slice('container:'.length)),
    ),
    etcFiles,
    cgroupV2: cgroupVersion() === 'v2',
    singleId: ctx.config.storage.userns === 'single',
    ...(mappings ? { idMappings: mappings } : {}),
    ...specCgroups(record),
    ...(c.ulimits ? { ulimits: c.ulimits } : {}),
    ...(c.oomScoreAdj !== undefined ? { oomScoreAdj: c.oomScoreAdj } : {}),
    ...(c.cgroupns === 'host' ? { hostCgroupns: true } : {}),
    annotations: {
      ...c.annotations,
      ...(c.groupAdd?.includes('keep-groups') ? { 'run.oci.keep_original_groups': '1' } : {}),
      'io.skiff.name': record.name,
      'io.skiff.image': record.image,
    },
    ...(c.umask !== undefined ? { umask: c.umask } : {}),
    ...(c.shmSize !== undefined ? { shmSize: c.shmSize } : {}),
    ...(c.sysctls ? { sysctls: c.sysctls } : {}),
    ...(c.personality ? { personality: c.personality } : {}),
    ...(c.sharedNamespaces ? { shared: sharedNamespaces(ctx, c.sharedNamespaces) } : {}),
  });
  // OCI hooks whose conditions the container meets (--hooks-dir, containers.conf hooks_dir).
  addSpecHooks(ctx, record, spec);
  // An unlimited rlimit (-1) is RLIM_INFINITY, 2^64-1: past what a JS number holds, so written as text.
  const text = JSON.stringify(spec, (key, value) => ((key === 'soft' || key === 'hard') && value === -1 ? 'RLIM_INFINITY' : value), 2);
  // The user's alone when it holds secrets' values.
  const mode = secretEnv.length ? 0o600 : 0o644;
  writeFileAtomic(join(dir, 'bundle', 'config.json'), `${text.replaceAll('"RLIM_INFINITY"', '18446744073709551615')}\n`, mode, false);
};
