// `skiff build` against `podman build` (4.3, --layers, runc, cgroupfs): a 6-step Dockerfile on
// busybox (COPY of a 50 MB tree of 1,000 files, 3 RUN steps, ENV, CMD) built cold in fresh stores,
// rebuilt with nothing changed, and rebuilt with one copied file changed; and a two-stage build
// whose stages are independent (each a second of shell arithmetic), cold. Both tools have
// busybox pulled before the clock starts. Rounds alternate which tool goes first.
import { spawnSync } from 'node:child_process';
import { chownSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bigContent } from '../test/fixtures/images.js';
import { startRegistry } from '../test/helpers/registry.js';
import { alternate, ids, journaledDir, podmanArgs, pushBusybox, report, settle, timeAs, userDir, userEnv } from './lib.js';

const SKIFF = fileURLToPath(new URL('../bin/skiff', import.meta.url));
const RUNS = Number(process.env.BENCH_BUILD_RUNS ?? 3);
const FILES = 1000;
const FILE_SIZE = 50 * 1024;

// The 50 MB context: incompressible files (as binaries are) in 10 directories.
const makeContext = (dir: string, image: string): void => {
  for (let d = 0; d < 10; d++) mkdirSync(join(dir, 'tree', `d${d}`), { recursive: true });
  for (let i = 0; i < FILES; i++) writeFileSync(join(dir, 'tree', `d${i % 10}`, `f${i}`), bigContent(FILE_SIZE, `file${i}`));
  writeFileSync(
    join(dir, 'Dockerfile'),
    [
      `FROM ${image}`,
      'ENV APP=bench',
      'COPY tree /tree',
      'RUN find /tree -type f | wc -l > /count',
      'RUN echo two > /two',
      'RUN echo three > /three',
      'CMD ["sh"]',
      '',
    ].join('\n'),
  );
  const work = "sh -c 'i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; echo $i'";
  writeFileSync(
    join(dir, 'Stages'),
    [
      `FROM ${image} AS a`,
      `RUN ${work} > /a`,
      `FROM ${image} AS b`,
      `RUN ${work} > /b`,
      `FROM ${image}`,
      'COPY --from=a /a /a',
      'COPY --from=b /b /b',
      '',
    ].join('\n'),
  );
  chownTree(dir);
};

const chownTree = (dir: string): void => {
  spawnSync('chown', ['-R', `${ids.uid}:${ids.gid}`, dir]);
};

export const benchBuild = async (): Promise<void> => {
  const registry = await startRegistry();
  const fs = journaledDir();
  process.stdout.write(`\nbuild: stores in ${fs.note}\n`);
  const cleanups: (() => void)[] = [];
  try {
    const image = await pushBusybox(registry.host);
    const ctx = userDir('build-ctx', fs.dir);
    cleanups.push(() => rmSync(ctx, { recursive: true, force: true }));
    makeContext(ctx, image);
    const rows: Record<string, number[]> = {};
    const add = (name: string, ms: number) => (rows[name] ??= []).push(ms);
    for (let i = 0; i < RUNS; i++) {
      const changed = join(ctx, 'tree', 'd0', 'f0');
      const tool = (name: 'skiff' | 'podman') => () => {
        const home = userDir(`build-${name}`, fs.dir);
        cleanups.push(() => rmSync(home, { recursive: true, force: true }));
        const shm = userDir(`b${name[0]}`, '/dev/shm');
        cleanups.push(() => rmSync(shm, { recursive: true, force: true }));
        const env = userEnv(home, join(shm, 'run'));
        const cli = name === 'skiff' ? [SKIFF] : podmanArgs(home, join(shm, 'r'));
        const tls = name === 'podman' ? ['--tls-verify=false'] : [];
        timeAs([...cli, 'pull', ...tls, '-q', image], env);
        const build = (file: string, tag: string) => [...cli, 'build', ...tls, '-q', '-f', join(ctx, file), '-t', tag, ctx];
        writeFileSync(changed, bigContent(FILE_SIZE, 'file0'));
        chownSync(changed, ids.uid, ids.gid);
        settle(2);
        add(`${name} build (cold)`, timeAs(build('Dockerfile', 'bench'), env));
        add(`${name} build (cached)`, timeAs(build('Dockerfile', 'bench'), env));
        writeFileSync(changed, bigContent(FILE_SIZE, `changed${i}`));
        add(`${name} build (one file changed)`, timeAs(build('Dockerfile', 'bench'), env));
        settle(1);
        add(`${name} build (two stages)`, timeAs(build('Stages', 'stages'), env));
        timeAs([...cli, 'rm', '-a', '-f'], env);
      };
      alternate(i, tool('skiff'), tool('podman'));
    }
    for (const kind of ['cold', 'cached', 'one file changed', 'two stages'])
      report(
        `build: ${kind}`,
        [`podman build (${kind})`, `skiff build (${kind})`].map((n) => [n, rows[n]] as [string, number[]]),
        `podman build (${kind})`,
      );
    process.stdout.write('  goals: cold <= 0.8x, cached <= 0.3x, one file changed <= 0.6x, two stages <= 0.6x\n');
  } finally {
    for (const c of cleanups) c();
    fs.done();
    await registry.stop();
  }
};
