// Many containers per user, the costs that must not grow with them: the events log rotates at
// its cap, a removed container leaves no file behind (exit file, lock, runtime dirs, the runtime's
// state), rm -f and stop start no `skiff container cleanup` per container, `ps` is answered
// without Node and prints Node's bytes, and a limit of the host is named with how to raise it.
// (The 200-container run is the scale bench's; test/system/305-scale.test.ts runs 210.)
import { chownSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { sleep, testIds, until, useSandbox } from '../helpers/cli.js';

const plain = inject('plainRegistry');
const IMG = `${plain}/skiff/busybox`;
const SLEEPER = ['sh', '-c', 'trap "exit 0" TERM; while :; do sleep 0.1; done'];
// The events log's cap in this file's store: a few containers' events.
const EVENTS_CAP = 3000;

const sb = useSandbox('scale-limits', { pull: [IMG] });

beforeAll(() => {
  const { uid, gid } = testIds();
  const dir = join(sb.home, '.config', 'skiff');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'skiff.conf'), `[engine]\nevents_logfile_max_size = ${EVENTS_CAP}\n`);
  for (const p of [join(sb.home, '.config'), dir, join(dir, 'skiff.conf')]) chownSync(p, uid, gid);
});

// Every container goes after each test (a failed one's too).
afterEach(async () => {
  await sb.run(['rm', '-a', '-f']);
});

const runDir = () => join(sb.env.XDG_RUNTIME_DIR, 'skiff');
const entries = (dir: string): string[] => {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
};
const monitors = () => sb.namespaceProcesses().filter((p) => p.comm === 'skiff-monitor');

describe('the events log', () => {
  it('rotates to events.log.1 at [engine] events_logfile_max_size; events shows both files, newest last', async () => {
    const log = join(sb.dataDir, 'events.log');
    for (let i = 0; i < 12; i++) await sb.runCli(0, 'run', '--rm', '--network', 'none', '--name', `ev${i}`, IMG, 'sh', '-c', ':');
    // One line over the cap at most, in each of the two files: ~4 events a container, ~250 bytes each.
    expect(statSync(log).size).toBeLessThan(EVENTS_CAP + 600);
    expect(statSync(`${log}.1`).size).toBeLessThan(EVENTS_CAP + 600);
    const events = (await sb.runCli(0, 'events', '--stream=false', '--format', '{{.Status}} {{.Name}}')).stdout.trim().split('\n');
    expect(events.length).toBeGreaterThan(EVENTS_CAP / 300);
    expect(events.length).toBeLessThan(12 * 4);
    expect(events[events.length - 1]).toBe('remove ev11');
    // In order, each once: the newest containers whole.
    expect(events.slice(-8)).toEqual(['create ev10', 'start ev10', 'died ev10', 'remove ev10', 'create ev11', 'start ev11', 'died ev11', 'remove ev11']);
  }, 120_000);
});

describe('a removed container', () => {
  it('leaves nothing: no record, name, lock, exit file, socket, runtime state or monitor', async () => {
    await sb.runCli(0, 'run', '-d', '--name', 'gone-run', '--network', 'none', IMG, ...SLEEPER);
    await sb.runCli(3, 'run', '--name', 'gone-exited', '--network', 'none', IMG, 'sh', '-c', 'exit 3');
    await sb.runCli(0, 'create', '--name', 'gone-created', IMG, 'sh', '-c', ':');
    await sb.runCli(0, 'run', '-d', '--name', 'gone-port', '-p', '18310:80', IMG, ...SLEEPER);
    const ids = (await sb.runCli(0, 'ps', '-a', '-q', '--no-trunc')).stdout.trim().split('\n');
    expect(ids).toHaveLength(4);
    // Every file of the store and the runtime dir named after one of them (its id or short id).
    const theirs = (): string[] => {
      const found: string[] = [];
      const walk = (dir: string) => {
        for (const name of entries(dir)) {
          const path = join(dir, name);
          if (ids.some((id) => name.includes(id.slice(0, 12)))) found.push(path);
          if (!['layers', 'images'].includes(name) && statSync(path, { throwIfNoEntry: false })?.isDirectory()) walk(path);
        }
      };
      walk(sb.dataDir);
      walk(runDir());
      return found;
    };
    // While they exist, their files do (so the check below can fail): records, locks, runtime dirs.
    const before = theirs();
    for (const part of ['/containers/', '/locks/containers/', '/runtime/crun/', '/sock/'])
      expect(
        before.some((p) => p.includes(part)),
        part,
      ).toBe(true);
    await sb.runCli(0, 'rm', '-a', '-f');
    // The runtime's state of a removed container is its monitor's to delete, after the rm.
    await until(() => monitors().length === 0, 20_000);
    expect(theirs()).toEqual([]);
    expect(entries(join(sb.dataDir, 'containers', 'names'))).toEqual([]);
    expect((await sb.runCli(0, 'ps', '-a', '-q')).stdout).toBe('');
  }, 120_000);

  it('rm -f and stop clean up themselves: no `skiff container cleanup` starts for each container', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) ids.push((await sb.runCli(0, 'run', '-d', '--network', 'none', IMG, ...SLEEPER)).stdout.trim());
    // Watch the namespace's processes while they go: a cleanup waits for the container's lock,
    // which the rm holds while it removes, so it would be seen.
    const seen = new Set<string>();
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        for (const p of sb.namespaceProcesses()) if (p.cmdline.includes('container cleanup')) seen.add(p.cmdline);
        await sleep(5);
      }
    })();
    try {
      await sb.runCli(0, 'stop', '-t', '5', ...ids.slice(0, 4));
      await sb.runCli(0, 'rm', '-f', ...ids);
      await until(() => monitors().length === 0, 20_000);
    } finally {
      watching = false;
      await watcher;
    }
    expect([...seen]).toEqual([]);
    // ... and the stopped ones were cleaned up by stop: exited, their runtime state gone.
    expect(entries(join(runDir(), 'runtime', 'crun'))).toEqual([]);
  }, 120_000);
});

describe('ps without Node', () => {
  // Times far back, so that "N months ago" reads the same in both answers.
  const age = (id: string) => {
    const record = join(sb.dataDir, 'containers', id, 'container.json');
    writeFileSync(record, JSON.stringify({ ...JSON.parse(readFileSync(record, 'utf8')), created: '2026-01-02T03:04:05.678Z' }, null, 2));
    const state = join(sb.dataDir, 'containers', id, 'state.json');
    const s = JSON.parse(readFileSync(state, 'utf8'));
    writeFileSync(
      state,
      JSON.stringify(
        {
          ...s,
          ...(s.startedAt ? { startedAt: '2026-01-02T03:04:06.000Z' } : {}),
          // (The monitor writes the exit's time in nanoseconds.)
          ...(s.finishedAt ? { finishedAt: '2026-01-02T03:04:07.123456789Z' } : {}),
        },
        null,
        2,
      ),
    );
  };
  const launcherOnly = { env: { SKIFF_NODE: '/bin/false' } };
  const nodeOnly = { env: { SKIFF_NO_FAST_PATH: '1' } };

  it('prints the bytes Node prints, for every flag it takes; anything else is left to Node', async () => {
    const made = [
      await sb.runCli(0, 'run', '-d', '--name', 'ps-up', '-p', '18311:80', '-p', '18312:81/udp', IMG, ...SLEEPER),
      await sb.runCli(7, 'run', '--name', 'ps-exited', '--network', 'none', IMG, 'sh', '-c', 'exit 7'),
      await sb.runCli(0, 'create', '--name', 'ps-created', IMG, 'sh', '-c', 'echo a command longer than twenty characters'),
      await sb.runCli(0, 'run', '-d', '--name', 'ps-none', '--network', 'none', IMG, ...SLEEPER),
    ];
    const ids = (await sb.runCli(0, 'ps', '-a', '-q', '--no-trunc')).stdout.trim().split('\n');
    expect(ids).toHaveLength(made.length);
    ids.forEach(age);
    for (const args of [
      ['ps'],
      ['ps', '-a'],
      ['ps', '-aq'],
      ['ps', '-q'],
      ['ps', '-a', '--no-trunc'],
      ['ps', '--all', '--noheading'],
      ['ps', '-a', '-q', '--no-trunc'],
      ['container', 'ls', '-a'],
      ['container', 'list'],
    ]) {
      const fast = await sb.run(args, launcherOnly);
      expect(fast.code, `${args.join(' ')}: ${fast.stderr}`).toBe(0);
      const slow = await sb.run(args, nodeOnly);
      expect(slow.code, `${args.join(' ')}: ${slow.stderr}`).toBe(0);
      expect(fast.stdout, args.join(' ')).toBe(slow.stdout);
      expect(fast.stdout).not.toBe('');
    }
    expect((await sb.run(['ps', '-a'], launcherOnly)).stdout).toMatch(/Exited \(7\) \d+ months ago +ps-exited\n/);
    // Flags it does not take, and a container it does not describe (a healthcheck's status), go to Node.
    expect((await sb.run(['ps', '--format', '{{.Names}}'], launcherOnly)).code).not.toBe(0);
    await sb.runCli(0, 'run', '-d', '--name', 'ps-health', '--network', 'none', '--health-cmd', 'true', IMG, ...SLEEPER);
    expect((await sb.run(['ps'], launcherOnly)).code).not.toBe(0);
    expect((await sb.runCli(0, 'ps', '--format', '{{.Names}}')).stdout).toContain('ps-health');
    await sb.runCli(0, 'rm', '-a', '-f');
  }, 120_000);
});

describe('a limit of the host', () => {
  it('the open-files soft limit is raised to the hard one; a hard limit too low is named with how to raise it', async () => {
    // A soft limit of 20 (hard as it was) is no wall: the monitor runs with the hard limit.
    const r = await sb.run(['run', '-d', '--name', 'nofile', '--network', 'none', IMG, ...SLEEPER], { wrapper: ['prlimit', '--nofile=20:'] });
    expect(r.code, r.stderr).toBe(0);
    const monitor = Number((await sb.runCli(0, 'inspect', '--format', '{{.State.ConmonPid}}', 'nofile')).stdout.trim());
    const line = readFileSync(`/proc/${monitor}/limits`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'))!;
    const [soft, hard] = line.slice(26).trim().split(/\s+/);
    expect(soft).toBe(hard);
    expect(Number(soft)).toBeGreaterThan(20);
    await sb.runCli(0, 'rm', '-f', 'nofile');
    // A hard limit of 20: one line, before Node starts (which may crash below ~16), exit 125.
    for (const args of [['ps'], ['run', '--rm', '--network', 'none', IMG, 'sh', '-c', ':']]) {
      const low = await sb.run(args, { wrapper: ['prlimit', '--nofile=20:20'] });
      expect(low.code, low.stderr).toBe(125);
      expect(low.stdout).toBe('');
      expect(low.stderr).toBe(
        'Error: the open-files limit is 20 (RLIMIT_NOFILE, hard limit 20) and skiff needs at least 64: raise it (ulimit -n; LimitNOFILE= in a systemd unit; nofile in /etc/security/limits.conf)\n',
      );
    }
  }, 120_000);
});
