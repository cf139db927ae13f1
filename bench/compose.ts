// skiff compose against podman-compose (Debian's) on a 5-service project with healthchecks and
// dependencies, as the same unprivileged user, alternating: `up -d` to all healthy, cold (images
// present, nothing else) and warm (`up -d` again, nothing changed), then `down`.
// Healthy means each container's healthcheck passed: skiff's monitors run the checks (`up -d
// --wait` returns when all are healthy); podman's need systemd timers, which this host has not, so
// the podman side runs `podman healthcheck run` on each container until all pass (up to 5 a second;
// skiff's first check comes one interval, 1s, after the start, as Docker's).
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { chownSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startRegistry } from '../test/helpers/registry.js';
import { alternate, ids, isRoot, median, podmanArgs, pushBusybox, report, runAs, settle, timeAs, userDir, userEnv } from './lib.js';

const SKIFF = fileURLToPath(new URL('../bin/skiff', import.meta.url));
const RUNS = Number(process.env.BENCH_COMPOSE_RUNS ?? 5);
const SERVICES = ['db', 'cache', 'api', 'worker', 'web'];

const compose = (image: string): string => {
  const loop = `["sh", "-c", "touch /tmp/ready; trap 'exit 0' TERM; while :; do sleep 0.1; done"]`;
  const health = '    healthcheck:\n      test: ["CMD-SHELL", "test -f /tmp/ready"]\n      interval: 1s\n      retries: 20\n';
  const deps: Record<string, string[]> = { api: ['db', 'cache'], worker: ['db'], web: ['api'] };
  return `services:\n${SERVICES.map(
    (s) =>
      `  ${s}:\n    image: ${image}\n    command: ${loop}\n${health}${deps[s] ? `    depends_on:\n${deps[s].map((d) => `      ${d}:\n        condition: service_started\n`).join('')}` : ''}`,
  ).join('')}`;
};

const ms = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e6;

export const benchCompose = async (): Promise<void> => {
  if (spawnSync('podman-compose', ['--version']).status !== 0) {
    process.stdout.write('\ncompose: podman-compose is not installed (apt-get install -y podman-compose): skipped\n');
    return;
  }
  const registry = await startRegistry();
  const skiffHome = userDir('cs');
  const podmanHome = userDir('cp');
  const skiffEnv = userEnv(skiffHome);
  const podmanEnv = userEnv(podmanHome);
  const podman = podmanArgs(podmanHome);
  const dir = userDir('cf');
  const file = join(dir, 'compose.yaml');
  const skiff = (...args: string[]) => [SKIFF, 'compose', '-f', file, '-p', 'bench', ...args];
  const pc = (...args: string[]) => ['podman-compose', '--podman-args', podman.slice(1).join(' '), '-f', file, '-p', 'bench', ...args];
  const names = SERVICES.map((s) => `bench_${s}_1`);
  // podman-compose's up, then each container's check until every one has passed.
  const podmanHealthy = (up: string[]): number => {
    const start = process.hrtime.bigint();
    const r = runAs(up, podmanEnv);
    if (r.status !== 0) throw new Error(`${up.join(' ')} failed: ${r.stderr.slice(-500)}`);
    const pending = new Set(names);
    for (let round = 0; pending.size; round++) {
      if (round > 300) throw new Error(`podman: not healthy: ${[...pending].join(', ')}`);
      // (What is recorded healthy already needs no check run: one inspect tells.)
      const states = runAs([...podman, 'inspect', '--format', '{{.Name}} {{.State.Health.Status}}', ...pending], podmanEnv).stdout;
      for (const line of states.split('\n')) if (line.endsWith(' healthy')) pending.delete(line.split(' ')[0]);
      for (const n of [...pending]) if (runAs([...podman, 'healthcheck', 'run', n], podmanEnv).status === 0) pending.delete(n);
      if (pending.size) spawnSync('sleep', ['0.2']);
    }
    return ms(start);
  };
  try {
    const image = await pushBusybox(registry.host);
    writeFileSync(file, compose(image));
    if (isRoot) chownSync(file, ids.uid, ids.gid);
    timeAs([SKIFF, 'pull', '-q', image], skiffEnv);
    timeAs([...podman, 'pull', '-q', '--tls-verify=false', image], podmanEnv);
    // One round of each, untimed: namespaces, networks' helpers, caches.
    timeAs(skiff('up', '-d', '--wait'), skiffEnv);
    timeAs(skiff('down', '-t', '1'), skiffEnv);
    podmanHealthy(pc('up', '-d'));
    timeAs(pc('down', '-t', '1'), podmanEnv);
    const rows = {
      cold: { skiff: [] as number[], podman: [] as number[] },
      warm: { skiff: [] as number[], podman: [] as number[] },
      down: { skiff: [] as number[], podman: [] as number[] },
    };
    for (let i = 0; i < RUNS; i++) {
      settle(1);
      alternate(
        i,
        () => rows.cold.skiff.push(timeAs(skiff('up', '-d', '--wait'), skiffEnv)),
        () => rows.cold.podman.push(podmanHealthy(pc('up', '-d'))),
      );
      alternate(
        i,
        () => rows.warm.skiff.push(timeAs(skiff('up', '-d', '--wait'), skiffEnv)),
        () => rows.warm.podman.push(podmanHealthy(pc('up', '-d'))),
      );
      alternate(
        i,
        () => rows.down.skiff.push(timeAs(skiff('down', '-t', '10'), skiffEnv)),
        () => rows.down.podman.push(timeAs(pc('down', '-t', '10'), podmanEnv)),
      );
    }
    const goals = { cold: 0.5, warm: 0.2, down: 0.5 };
    for (const [phase, r] of Object.entries(rows) as [keyof typeof goals, { skiff: number[]; podman: number[] }][]) {
      const title = {
        cold: 'compose up -d, 5 services to all healthy, cold (images present)',
        warm: 'compose up -d again, nothing changed (all healthy)',
        down: 'compose down',
      }[phase];
      report(
        `${title} (goal: skiff ≤ ${goals[phase]}× podman-compose)`,
        [
          ['podman-compose', r.podman],
          ['skiff compose', r.skiff],
        ],
        'podman-compose',
      );
      const ratio = median(r.skiff) / median(r.podman);
      process.stdout.write(`  ${ratio <= goals[phase] ? 'met' : 'MISSED'}: ${ratio.toFixed(2)}×\n`);
    }
  } finally {
    runAs(skiff('down', '-v', '-t', '0'), skiffEnv);
    runAs(pc('down', '-t', '0'), podmanEnv);
    runAs([...podman, 'system', 'reset', '--force'], podmanEnv);
    runAs([SKIFF, 'system', 'reset', '--force'], skiffEnv);
    spawnSync('rm', ['-rf', skiffHome, podmanHome, dir]);
    await registry.stop();
  }
};
