// Many containers at once, as a CI machine runs them: parallel `run --rm` leave nothing behind, `ps`
// stays right meanwhile, and a CLI killed while creating blocks neither the name nor the store.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { sleep, useSandbox } from '../helpers/cli.js';

const plain = inject('plainRegistry');
const IMG = `${plain}/skiff/busybox`;
const ls = (dir: string) => (existsSync(dir) ? readdirSync(dir) : []);

// Processes in the sandbox's rootless namespace other than the pause process: monitors, runtimes,
// containers, CLIs re-executed inside (other tests of the same user have namespaces of their own).
const strayProcesses = (): string[] => sb.namespaceProcesses().map((p) => `${p.pid} ${p.cmdline}`);

const sb = useSandbox('conc', { pull: [IMG] });

describe('parallel runs', () => {
  it('20 run --rm in 4 workers all succeed and leave no container, mount, process, lock or runtime state', async () => {
    let next = 0;
    const results: { code: number; stdout: string; stderr: string }[] = [];
    let psRuns = 0;
    let running = true;
    // ps -a keeps answering, and answering sensibly, while the runs go on.
    const watcher = (async () => {
      while (running) {
        const ps = await sb.run(['ps', '-a', '--format', 'json']);
        expect(ps.code).toBe(0);
        expect(Array.isArray(JSON.parse(ps.stdout))).toBe(true);
        psRuns++;
      }
    })();
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next < 20) {
          const n = next++;
          results[n] = await sb.run(['run', '--rm', IMG, 'sh', '-c', `echo job ${n}`]);
        }
      }),
    );
    running = false;
    await watcher;
    expect(psRuns).toBeGreaterThan(0);
    expect(results.map((r) => [r.code, r.stdout, r.stderr])).toEqual(results.map((_, n) => [0, `job ${n}\n`, '']));

    expect((await sb.runCli(0, 'ps', '-aq')).stdout).toBe('');
    const containers = join(sb.dataDir, 'containers');
    expect(ls(containers).filter((n) => n !== 'names')).toEqual([]);
    expect(ls(join(containers, 'names'))).toEqual([]);
    expect(ls(join(sb.dataDir, 'locks', 'containers'))).toEqual([]);
    const runDir = join(sb.dir, 'run', 'skiff');
    expect(ls(join(runDir, 'containers'))).toEqual([]);
    expect(ls(join(runDir, 'mounts'))).toEqual([]);
    expect(ls(join(runDir, 'sock'))).toEqual([]);
    expect(readFileSync(`/proc/${sb.pausePid()}/mountinfo`, 'utf8')).not.toMatch(/containers\/[a-f0-9]{64}/);
    // Monitors finish their cleanup command a moment after the CLI returns (the runtime's delete
    // of a --rm container's state is theirs).
    await expect.poll(strayProcesses, { timeout: 10_000 }).toEqual([]);
    expect(ls(join(runDir, 'runtime', 'crun'))).toEqual([]);
  }, 180_000);
});

describe('a CLI killed during create', () => {
  it('leaves nothing that blocks the name or the storage', async () => {
    for (const delay of [20, 40, 60, 80, 100, 130]) {
      const child = sb.spawn(['create', '--name', 'victim', IMG, 'sh'], { stdio: 'ignore' });
      const exited = new Promise((r) => child.once('exit', r));
      await sleep(delay);
      child.kill('SIGKILL');
      await exited;
      // The re-executed CLI inside the namespace notices its parent is gone (within 100 ms) and ends.
      await expect.poll(strayProcesses, { timeout: 10_000 }).toEqual([]);
      const again = await sb.run(['create', '--replace', '--name', 'victim', IMG, 'sh']);
      expect(again.code, again.stderr).toBe(0);
      const ps = (await sb.runCli(0, 'ps', '-a', '--format', '{{.Names}}')).stdout;
      expect(ps).toBe('victim\n');
      await sb.runCli(0, 'rm', 'victim');
    }
    // No half-made container is left in the store.
    expect(ls(join(sb.dataDir, 'containers')).filter((n) => n !== 'names')).toEqual([]);
  }, 120_000);
});

describe('a crash (power cut) that leaves a record unreadable', () => {
  // `run` flushes a container's record to disk only once the runtime is starting it, and state
  // changes are never flushed: after a power cut either may be empty or cut short.
  it('lists the container, refuses to start it, and lets rm remove it and free its name', async () => {
    await sb.runCli(0, 'create', '--name', 'crashed', IMG, 'sh');
    await sb.runCli(0, 'create', '--name', 'halfstate', IMG, 'sh');
    const id = (await sb.runCli(0, 'inspect', '--format', '{{.Id}}', 'crashed')).stdout.trim();
    const other = (await sb.runCli(0, 'inspect', '--format', '{{.Id}}', 'halfstate')).stdout.trim();
    writeFileSync(join(sb.dataDir, 'containers', id, 'container.json'), '');
    writeFileSync(join(sb.dataDir, 'containers', other, 'state.json'), '{"status": "runn');
    const ps = (await sb.runCli(0, 'ps', '-a', '--format', '{{.ID}} {{.Names}} {{.Status}}')).stdout;
    expect(ps).toMatch(new RegExp(`^${id.slice(0, 12)} crashed Created`, 'm'));
    expect(ps).toMatch(new RegExp(`^${other.slice(0, 12)} halfstate Created`, 'm'));
    const start = await sb.run(['start', 'crashed']);
    expect(start.code).toBe(125);
    expect(start.stderr.trim()).toBe(
      'Error: container crashed lost its record (container.json) in a crash and cannot start: remove it with `skiff rm crashed`',
    );
    await sb.runCli(0, 'start', '-a', 'halfstate');
    await sb.runCli(0, 'rm', 'crashed', 'halfstate');
    await sb.runCli(0, 'create', '--name', 'crashed', IMG, 'sh');
    await sb.runCli(0, 'rm', 'crashed');
    expect(ls(join(sb.dataDir, 'containers')).filter((n) => n !== 'names')).toEqual([]);
  });
});
