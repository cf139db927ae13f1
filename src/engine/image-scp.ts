// skiff image scp: an image copied to or from another host over ssh (Podman's ssh forms, without
// its `system connection` store). Push: the local save (docker-archive) streams into
// `ssh [-p PORT] [USER@]HOST` running a load there (skiff's, else Podman's). Pull: the remote save
// streams into a local `skiff load` (a child: ssh must run as the user, outside the user
// namespace that loading needs). ssh is spawned with an argv; HOST and USER are checked so that
// they cannot become ssh options, and what reaches the remote shell is single-quoted.
import { accessSync, closeSync, constants as fsConstants } from 'node:fs';
import type { Socket } from 'node:net';
import { delimiter, join } from 'node:path';
import { readPipe, signalQuietly, spawnHelper, type Spawned } from '../util/exec.js';
import { native } from '../util/native.js';
import { CliError, messageOf } from '../errors.js';
import { formatReference, parseReference } from '../image/reference.js';
import { skiffCommand } from './container-launch.js';
import type { EngineContext } from './context.js';
import type { ImagesEngine } from './images.js';

export interface ScpHost {
  user?: string;
  host: string;
  port?: number;
}

export type ScpPlan =
  | { direction: 'push'; image: string; remote: ScpHost; newName?: string }
  | { direction: 'pull'; image: string; remote: ScpHost; newName?: string };

export interface ScpReport {
  direction: 'push' | 'pull';
  /** What the load printed (on the remote host for a push). */
  output: string;
}

const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9._-]*)|\[[0-9A-Fa-f:.]+\])$/;
const USER = /^[A-Za-z0-9_.][A-Za-z0-9_.-]*$/;
const LOCAL = new Set(['', 'localhost']);

const needsRoot = (): CliError =>
  new CliError('EUSAGE', 'copying an image between users of this host needs root (Podman runs it as root): use ssh to the other account, USER@HOST::');

// [USER@]HOST[:PORT]
const parseHost = (spec: string): ScpHost => {
  const at = spec.lastIndexOf('@');
  const user = at >= 0 ? spec.slice(0, at) : undefined;
  let host = at >= 0 ? spec.slice(at + 1) : spec;
  let port: number | undefined;
  const colon = host.lastIndexOf(':');
  if (colon >= 0 && !host.endsWith(']')) {
    const text = host.slice(colon + 1);
    if (!/^\d{1,5}$/.test(text) || Number(text) < 1 || Number(text) > 65535)
      throw new CliError('EUSAGE', `invalid port "${text}" in "${spec}::": give 1-65535`);
    port = Number(text);
    host = host.slice(0, colon);
  }
  if (LOCAL.has(host)) throw needsRoot();
  if (!HOST.test(host)) throw new CliError('EUSAGE', `invalid host "${host}" in "${spec}::": letters, digits, '.', '-', '_' (not first) or [IPv6]`);
  if (user !== undefined && !USER.test(user))
    throw new CliError('EUSAGE', `invalid user "${user}" in "${spec}::": letters, digits, '.', '-', '_' (not '-' first)`);
  return { user, host, port };
};

// An image name as given (a name or an id), never an option or anything a shell would read.
const checkImage = (name: string, what: string): string => {
  if (!/^[A-Za-z0-9][A-Za-z0-9._:/@-]*$/.test(name)) throw new CliError('EUSAGE', `invalid ${what} "${name}": give an image name or id`);
  return name;
};

const checkNewName = (name: string | undefined): string | undefined => {
  if (!name) return undefined;
  checkImage(name, 'new name');
  const ref = parseReference(name);
  if (ref.digest) throw new CliError('EUSAGE', `cannot name the copy with a digest: "${name}"`);
  return formatReference(ref);
};

// SRC [DEST]: IMAGE [USER@]HOST[:PORT]::[NEWNAME], or [USER@]HOST[:PORT]::IMAGE [NEWNAME].
export const parseScpArgs = (source: string, destination?: string): ScpPlan => {
  const split = (arg: string) => {
    // (a bracketed IPv6 host has '::' of its own)
    const at = arg.indexOf('::', arg.startsWith('[') ? Math.max(arg.indexOf(']'), 0) : 0);
    return at < 0 ? undefined : { host: arg.slice(0, at), rest: arg.slice(at + 2) };
  };
  const src = split(source);
  const dst = destination === undefined ? undefined : split(destination);
  if (src && dst) throw new CliError('EUSAGE', 'copying between two other hosts is not supported: copy the image here first, then on');
  if (src) {
    if (LOCAL.has(src.host)) throw needsRoot();
    if (!src.rest) throw new CliError('EUSAGE', `no image in "${source}": give HOST::IMAGE`);
    return { direction: 'pull', remote: parseHost(src.host), image: checkImage(src.rest, 'image'), newName: checkNewName(destination) };
  }
  if (!dst) throw needsRoot();
  if (LOCAL.has(dst.host)) throw needsRoot();
  return { direction: 'push', image: checkImage(source, 'image'), remote: parseHost(dst.host), newName: checkNewName(dst.rest) };
};

const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

const sshArgv = (remote: ScpHost, command: string): string[] => [
  '-T',
  ...(remote.port ? ['-p', String(remote.port)] : []),
  '--',
  remote.user ? `${remote.user}@${remote.host}` : remote.host,
  command,
];

const target = (remote: ScpHost): string => `${remote.user ? `${remote.user}@` : ''}${remote.host}${remote.port ? `:${remote.port}` : ''}`;

interface Exit {
  code: number;
  stderr: string;
  stdout: string;
}

// A child started through util/exec.ts (posix_spawn), its stdin and stdout as sockets over pipes
// when asked for, its stderr's tail and stdout's text collected unless stdout is streamed.
interface Child {
  stdin?: Socket;
  stdout?: Socket;
  ended: Promise<Exit>;
  kill(): void;
}

const start = async (bin: string, argv: string[], streams: { stdin?: boolean; stdout?: 'stream' | 'collect' }): Promise<Child> => {
  const { Socket } = await import('node:net');
  const n = native();
  const [inRead, inWrite] = streams.stdin ? n.pipe() : [null, null];
  const [outRead, outWrite] = streams.stdout ? n.pipe() : [null, null];
  const [errRead, errWrite] = n.pipe();
  let child: Spawned;
  try {
    child = spawnHelper(bin, argv, [inRead, outWrite, errWrite]);
  } catch (error) {
    for (const fd of [inWrite, outRead, errRead]) if (fd !== null) closeSync(fd);
    throw new CliError('EHELPER', `cannot run ${bin}: ${messageOf(error)}`, { cause: error });
  } finally {
    for (const fd of [inRead, outWrite, errWrite]) if (fd !== null) closeSync(fd);
  }
  const stdin = inWrite === null ? undefined : new Socket({ fd: inWrite, readable: false, writable: true });
  stdin?.on('error', () => undefined); // the child gone: its exit says why
  const stdout = outRead === null ? undefined : new Socket({ fd: outRead, readable: true, writable: false });
  let out = '';
  if (stdout && streams.stdout === 'collect') stdout.on('data', (d: Buffer) => (out += d));
  const err = readPipe(errRead).then((b) => b.toString().slice(-16_384));
  const closed = stdout && streams.stdout === 'collect' ? new Promise((resolve) => stdout.on('close', resolve)) : Promise.resolve();
  const ended = Promise.all([child.exited, err, closed]).then(([code, stderr]) => ({ code, stderr, stdout: out }));
  return { stdin, stdout, ended, kill: () => signalQuietly(child.pid, 'SIGTERM') };
};

// ssh as the user's PATH has it (not skiff's helper directories: it is the user's own client).
const sshBinary = (): string => {
  for (const dir of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) {
    try {
      accessSync(join(dir, 'ssh'), fsConstants.X_OK);
      return join(dir, 'ssh');
    } catch {
      // not there
    }
  }
  throw new CliError('EHELPER', 'ssh not found: install the OpenSSH client (openssh-client) to copy images to other hosts');
};

const lastLine = (text: string): string =>
  text
    .trim()
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .at(-1) ?? '';

const sshError = (remote: ScpHost, exit: Exit): CliError => {
  const why = lastLine(exit.stderr);
  return new CliError('EHELPER', `ssh to ${target(remote)} failed (exit ${exit.code})${why ? `: ${why}` : ''}`);
};

// The remote shell line: skiff where it is on PATH, else Podman.
const remoteLine = (verb: string): string => `if command -v skiff >/dev/null; then c=skiff; else c=podman; fi; ${verb}`;

export const imageScp = async (ctx: EngineContext, images: ImagesEngine, source: string, destination?: string): Promise<ScpReport> => {
  const plan = parseScpArgs(source, destination);
  return plan.direction === 'push' ? push(images, plan) : pull(ctx, images, plan);
};

const push = async (images: ImagesEngine, plan: ScpPlan): Promise<ScpReport> => {
  const record = images.resolve(plan.image); // no such image: fails before ssh runs
  const tag = plan.newName ? ` && "$c" tag ${quote(record.id)} ${quote(plan.newName)}` : '';
  const ssh = await start(sshBinary(), sshArgv(plan.remote, remoteLine(`"$c" load${tag}`)), { stdin: true, stdout: 'collect' });
  let saveError: unknown;
  let killed = false;
  try {
    await images.save([plan.image], 'docker-archive', ssh.stdin!);
    ssh.stdin!.end();
  } catch (error) {
    saveError = error;
    // A closed pipe is ssh gone (its exit says why); else the remote load must see a cut archive,
    // and stores nothing.
    ssh.stdin!.destroy();
    if ((error as NodeJS.ErrnoException).code !== 'EPIPE') {
      ssh.kill();
      killed = true;
    }
  }
  const ended = await ssh.ended;
  if (ended.code !== 0 && !killed) throw sshError(plan.remote, ended);
  if (saveError) throw saveError instanceof CliError ? saveError : new CliError('EHELPER', `saving ${plan.image} failed: ${messageOf(saveError)}`);
  return { direction: 'push', output: ended.stdout };
};

const pull = async (ctx: EngineContext, images: ImagesEngine, plan: ScpPlan): Promise<ScpReport> => {
  const ssh = await start(sshBinary(), sshArgv(plan.remote, remoteLine(`"$c" save ${quote(plan.image)}`)), { stdout: 'stream' });
  const [command, ...args] = skiffCommand(ctx, 'load');
  const load = await start(command, args, { stdin: true, stdout: 'collect' });
  ssh.stdout!.pipe(load.stdin!);
  const [sshEnded, loaded] = await Promise.all([ssh.ended, load.ended]);
  if (sshEnded.code !== 0) {
    // A load that read a whole archive although ssh failed afterwards keeps it: it is complete.
    throw sshError(plan.remote, sshEnded);
  }
  if (loaded.code !== 0)
    throw new CliError('EHELPER', `loading the image from ${target(plan.remote)} failed: ${lastLine(loaded.stderr) || `exit ${loaded.code}`}`);
  if (plan.newName) {
    const first = /^Loaded image: (.+)$/m.exec(loaded.stdout)?.[1]?.trim();
    if (!first) throw new CliError('EHELPER', `the load from ${target(plan.remote)} named no image to tag ${plan.newName}`);
    await images.tag(first, [plan.newName]);
  }
  return { direction: 'pull', output: loaded.stdout };
};
