// State after a kill (issue 19): SIGKILL of `run -d`, `start`, `stop`, `rm -f`, of a container's
// monitor and of the pause process, each at random moments; then the next command tells the truth
// (a container reported running has its process, one not reported running has none), exec works
// in a running one, start in a created one, `rm -f` removes it, and no process and no file of it
// is left behind.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { SKIFF, createSandbox, sleep, testIds, until, type Sandbox } from '../helpers/cli.js';

let sb: Sandbox;
const plain = inject('plainRegistry');
const IMG = `${plain}/skiff/busybox`;
const ls = (dir: string) => (existsSync(dir) ? readdirSync(dir) : []);
const runDir = () => join(sb.dir, 'run', 'skiff');

// Every user namespace the sandbox's pause processes have held (a killed pause is replaced).
const namespaces = new Set<string>();
const noteNamespace = (): void => {
  try {
    namespaces.add(readlinkSync(`/proc/${sb.pausePid()}/ns/user`));
  } catch {
    // no pause process (yet, or killed)
  }
};

// Live processes in any of the sandbox's namespaces, pause processes aside: "PID CMDLINE".
const processes = (): string[] => {
  noteNamespace();
  const out: string[] = [];
  for (const entry of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (!namespaces.has(readlinkSync(`/proc/${entry}/ns/user`))) continue;
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue;
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      // (The pause process, and the named networks' namespace with its helpers, live on.)
      if (/^sleep infinity$|sh -c read go|^\S*slirp4netns .* tap0$|skiff-dns /.test(cmdline)) continue;
      out.push(`${entry} ${cmdline}`);
    } catch {
      // gone meanwhile
    }
  }
  return out;
};

// The container's own process: `sleep MARK` (each container sleeps for its own number of seconds).
const containerProcesses = (mark: number) => processes().filter((p) => new RegExp(`^\\d+ (sh -c )?sleep ${mark}$`).test(p));

// Starts skiff as the test user and SIGKILLs it after `delay` ms; resolves once it has exited.
const killAfter = async (args: string[], delay: number): Promise<void> => {
  const { uid, gid } = testIds();
  const root = process.getuid?.() === 0;
  const child = spawn(SKIFF, args, { env: sb.env, cwd: sb.home, uid: root ? uid : undefined, gid: root ? gid : undefined, stdio: 'ignore' });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  await sleep(delay);
  child.kill('SIGKILL');
  await exited;
};

const timed = async (args: string[]): Promise<number> => {
  const start = Date.now();
  await sb.runCli(0, ...args);
  return Date.now() - start;
};

const stateOf = async (name: string): Promise<string | undefined> => {
  const ps = (await sb.runCli(0, 'ps', '-a', '--format', '{{.Names}} {{.State}}')).stdout;
  return ps
    .split('\n')
    .find((l) => l.startsWith(`${name} `))
    ?.split(' ')[1];
};

const outcomes: Record<string, Record<string, number>> = {};
const count = (scenario: string, what: string): void => {
  outcomes[scenario] ??= {};
  outcomes[scenario][what] = (outcomes[scenario][what] ?? 0) + 1;
};

// What every scenario checks after its kill: ps tells the truth (now, and a moment later: nothing
// starts unseen), exec works in a running container, start in a created one, and rm -f leaves no
// container, process, name, runtime dir, socket or network namespace.
const checkTruth = async (scenario: string, name: string, mark: number): Promise<void> => {
  const state = await stateOf(name);
  const running = containerProcesses(mark);
  count(scenario, state ?? 'absent');
  if (state === 'running') expect(running, `${name}: ps says running`).not.toEqual([]);
  else expect(running, `${name}: ps says ${state ?? 'nothing'}`).toEqual([]);
  await sleep(200);
  if (state !== 'running') expect(containerProcesses(mark), `${name}: ps said ${state ?? 'nothing'}, then it ran`).toEqual([]);
  if (state === 'running') {
    const exec = await sb.run(['exec', name, 'sh', '-c', 'exit 0']);
    expect(exec.code, `exec into ${name}: ${exec.stderr}`).toBe(0);
  } else if (state === 'created' || state === 'exited') {
    const start = await sb.run(['start', name]);
    expect(start.code, `start ${name}: ${start.stderr}`).toBe(0);
    expect(await stateOf(name)).toBe('running');
    expect(containerProcesses(mark)).not.toEqual([]);
  }
  const rm = await sb.run(['rm', '-f', '-t', '0', name]);
  if (state) expect(rm.code, `rm -f ${name}: ${rm.stderr}`).toBe(0);
  else expect(rm.stderr, `rm -f ${name}`).toMatch(rm.code === 0 ? /^$/ : /no such container/);
  expect(await stateOf(name)).toBeUndefined();
  await until(() => processes().length === 0, 10_000).catch(() => expect(processes(), `processes left after rm -f ${name}`).toEqual([]));
  await until(() => ls(join(runDir(), 'netns')).length === 0, 5000).catch(() => undefined);
  expect(ls(join(sb.dataDir, 'containers', 'names')), 'name links').toEqual([]);
  expect(
    ls(join(sb.dataDir, 'containers')).filter((n) => n !== 'names'),
    'container dirs',
  ).toEqual([]);
  expect(ls(join(runDir(), 'containers')).join(' '), 'runtime dirs').toBe('');
  expect(ls(join(runDir(), 'sock')).join(' '), 'sockets').toBe('');
  expect(
    ls(join(runDir(), 'netns'))
      .map((f) => f.slice(0, 8) + f.slice(64))
      .join(' '),
    'network namespaces',
  ).toBe('');
};

const random = (max: number) => Math.floor(Math.random() * max);
let runMs = 0;

// A sandbox of its own for each test: what one leaves behind fails that one only.
beforeEach(async () => {
  sb = createSandbox('kill');
  namespaces.clear();
  await sb.runCli(0, 'pull', '-q', IMG);
  await sb.runCli(0, 'run', '-d', '--name', 'warm', IMG, 'sh', '-c', 'sleep 1');
  await sb.runCli(0, 'rm', '-f', '-t', '0', 'warm');
  noteNamespace();
  if (runMs) return;
  // How long a `run -d` takes here: the kills land anywhere in it.
  const times = [];
  for (let i = 0; i < 3; i++) {
    times.push(await timed(['run', '-d', '--name', 'probe', IMG, 'sh', '-c', 'sleep 1']));
    await sb.runCli(0, 'rm', '-f', '-t', '0', 'probe');
  }
  runMs = Math.max(...times);
}, 120_000);
afterEach(async () => {
  await sb.cleanup();
});
afterAll(() => {
  console.log(`run -d took ${runMs} ms; outcomes: ${JSON.stringify(outcomes)}`);
});

describe('SIGKILL of a command', () => {
  it('run -d killed anywhere: ps tells the truth, exec or start work, rm -f leaves nothing', async () => {
    for (let i = 0; i < 14; i++) {
      const name = `run-${i}`;
      const mark = 7000 + i;
      await killAfter(['run', '-d', '--name', name, IMG, 'sh', '-c', `sleep ${mark}`], random(runMs * 1.2));
      await checkTruth('run -d', name, mark);
    }
  }, 120_000);

  it('start killed anywhere', async () => {
    for (let i = 0; i < 8; i++) {
      const name = `start-${i}`;
      const mark = 7100 + i;
      await sb.runCli(0, 'create', '--name', name, IMG, 'sh', '-c', `sleep ${mark}`);
      await killAfter(['start', name], random(runMs));
      await checkTruth('start', name, mark);
    }
  }, 120_000);

  it('stop killed anywhere', async () => {
    for (let i = 0; i < 6; i++) {
      const name = `stop-${i}`;
      const mark = 7200 + i;
      await sb.runCli(0, 'run', '-d', '--name', name, IMG, 'sh', '-c', `sleep ${mark}`);
      // sleep as PID 1 ignores SIGTERM: stop kills it after its one-second timeout.
      await killAfter(['stop', '-t', '1', name], random(1500));
      await checkTruth('stop', name, mark);
    }
  }, 120_000);

  it('rm -f killed anywhere', async () => {
    for (let i = 0; i < 8; i++) {
      const name = `rm-${i}`;
      const mark = 7300 + i;
      await sb.runCli(0, 'run', '-d', '--name', name, IMG, 'sh', '-c', `sleep ${mark}`);
      await killAfter(['rm', '-f', '-t', '0', name], random(runMs));
      await checkTruth('rm -f', name, mark);
    }
  }, 120_000);
});

// SIGKILLs every skiff-monitor in the sandbox's namespaces once one is there (2 s at most).
const killMonitors = async (): Promise<void> => {
  const monitors = () => processes().filter((p) => p.includes('skiff-monitor --cid'));
  await until(() => monitors().length > 0, 2000).catch(() => undefined);
  for (const p of monitors()) {
    try {
      process.kill(Number(p.split(' ')[0]), 'SIGKILL');
    } catch {
      // ended meanwhile
    }
  }
};

describe('SIGKILL of run -d on a named network', () => {
  // There the CLI, not the monitor, starts the container (after attaching it to the network): a
  // CLI killed between the runtime's create and start leaves a created container no one starts.
  it('killed anywhere: a created one is reported created and starts', async () => {
    await sb.runCli(0, 'network', 'create', '--subnet', '10.89.180.0/24', 'killnet');
    for (let i = 0; i < 6; i++) {
      const name = `net-${i}`;
      const mark = 7900 + i;
      await killAfter(['run', '-d', '--network', 'killnet', '--name', name, IMG, 'sh', '-c', `sleep ${mark}`], random(runMs * 2));
      await checkTruth('run -d --network', name, mark);
    }
    await sb.runCli(0, 'network', 'rm', 'killnet');
  }, 120_000);
});

describe('SIGKILL of a monitor', () => {
  it('a container whose monitor died is reported running; exec, stop and rm work, and its socket goes', async () => {
    await sb.runCli(0, 'run', '-d', '--name', 'orphan', IMG, 'sh', '-c', 'sleep 7400');
    await killMonitors();
    expect(await stateOf('orphan')).toBe('running');
    await sb.runCli(0, 'exec', 'orphan', 'sh', '-c', 'exit 0');
    await sb.runCli(0, 'stop', '-t', '1', 'orphan');
    expect(await stateOf('orphan')).toBe('exited');
    expect(containerProcesses(7400)).toEqual([]);
    expect(ls(join(runDir(), 'sock'))).toEqual([]);
    await sb.runCli(0, 'start', 'orphan');
    expect(containerProcesses(7400)).not.toEqual([]);
    await checkTruth('monitor then start', 'orphan', 7400);
  });

  it('killed anywhere in run -d or after it', async () => {
    for (let i = 0; i < 8; i++) {
      const name = `mon-${i}`;
      const mark = 7500 + i;
      const run = sb.run(['run', '-d', '--name', name, IMG, 'sh', '-c', `sleep ${mark}`]);
      await sleep(random(runMs * 1.5));
      await killMonitors();
      await run;
      await checkTruth('monitor', name, mark);
    }
  }, 120_000);
});

describe('SIGKILL of the pause process', () => {
  it('containers started before stay reachable: exec, ps, stop and rm work, and new ones join them', async () => {
    await sb.runCli(0, 'run', '-d', '--name', 'before', IMG, 'sh', '-c', 'sleep 7600');
    process.kill(sb.pausePid(), 'SIGKILL');
    await sb.runCli(0, 'exec', 'before', 'sh', '-c', 'exit 0');
    await sb.runCli(0, 'run', '-d', '--name', 'after', IMG, 'sh', '-c', 'sleep 7601');
    await sb.runCli(0, 'exec', 'after', 'sh', '-c', 'exit 0');
    expect(await stateOf('before')).toBe('running');
    expect(await stateOf('after')).toBe('running');
    await sb.runCli(0, 'stop', '-t', '0', 'before');
    await sb.runCli(0, 'start', 'before');
    await sb.runCli(0, 'exec', 'before', 'sh', '-c', 'exit 0');
    await sb.runCli(0, 'rm', '-f', '-t', '0', 'before');
    expect(containerProcesses(7600)).toEqual([]);
    await checkTruth('pause', 'after', 7601);
  });

  it('killed anywhere in run -d', async () => {
    for (let i = 0; i < 6; i++) {
      const name = `pause-${i}`;
      const mark = 7700 + i;
      const run = sb.run(['run', '-d', '--name', name, IMG, 'sh', '-c', `sleep ${mark}`]);
      await sleep(random(runMs * 1.2));
      process.kill(sb.pausePid(), 'SIGKILL');
      await run;
      await checkTruth('pause', name, mark);
    }
  }, 120_000);
});

describe('a store on a file system mounted after the namespace was made', () => {
  // The pause process's mount namespace is a copy made when it started: on a host whose / is a
  // private mount, a file system mounted later is not in it.
  it('fails with one line that says so and names system migrate, which makes a namespace that sees it', async () => {
    const { uid, gid } = testIds();
    const later = join(sb.dir, 'later');
    execFileSync('mkdir', ['-m', '755', later]);
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=64m,uid=${uid},gid=${gid},mode=700`, 'tmpfs', later]);
    try {
      const store = join(later, 'store');
      const failed = await sb.run(['--root', store, 'pull', '-q', IMG]);
      expect(failed.code).toBe(125);
      expect(failed.stderr).toBe(
        `Error: the store is on ${later}, a file system mounted after skiff's rootless namespace was made, which does not see it: run \`skiff system migrate\` to make a new one\n`,
      );
      // migrate refuses while a container runs (it would lose it)...
      await sb.runCli(0, 'run', '-d', '--name', 'busy', IMG, 'sh', '-c', 'sleep 7800');
      const refused = await sb.run(['system', 'migrate']);
      expect(refused.code).toBe(125);
      expect(refused.stderr).toBe('Error: 1 container is running (busy): stop it first, then run `skiff system migrate` again\n');
      await sb.runCli(0, 'rm', '-f', '-t', '0', 'busy');
      // ...and otherwise stops the pause process: the next command makes a namespace that sees the mount.
      const pause = sb.pausePid();
      await sb.runCli(0, 'system', 'migrate');
      // (Killed, it may stay a zombie: this host's PID 1 need not reap it.)
      const alive = () => existsSync(`/proc/${pause}`) && !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pause}/stat`, 'utf8'));
      expect(alive()).toBe(false);
      await sb.runCli(0, '--root', store, 'pull', '-q', IMG);
      await sb.runCli(0, '--root', store, 'run', '--rm', IMG, 'sh', '-c', 'exit 0');
    } finally {
      await sb.run(['--root', join(later, 'store'), 'rm', '-af']);
      await sb.run(['system', 'migrate']);
      execFileSync('umount', ['-l', later]);
    }
  });
});
