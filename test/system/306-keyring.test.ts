// Containers share one session keyring (305-scale: the per-user key quota) only where skiff's
// seccomp profile denies them keyctl. One whose profile allows it (seccomp=unconfined, a profile
// of the user's, --privileged) gets a keyring of its own from the runtime: in the shared one it
// read (and could change) the keys every other container kept in its session keyring.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { useSandbox } from '../helpers/cli.js';

const plain = inject('plainRegistry');
const IMG = `${plain}/skiff/busybox`;

const sb = useSandbox('keyring', { pull: [IMG] });
let tools: string;

beforeAll(() => {
  tools = join(sb.dir, 'keyring-tool');
  mkdirSync(tools, { mode: 0o755 });
  const cc = spawnSync('sh', ['-c', 'command -v musl-gcc || command -v gcc'], { encoding: 'utf8' }).stdout.trim();
  execFileSync(cc, ['-O2', '-static', '-o', join(tools, 'keyring'), fileURLToPath(new URL('../fixtures/keyring.c', import.meta.url))]);
});

const keyring = (flags: string[], ...args: string[]) => sb.runCli(0, 'run', '--rm', ...flags, '-v', `${tools}:/k:ro`, IMG, '/k/keyring', ...args);

describe('session keyrings', () => {
  it.each([[['--security-opt', 'seccomp=unconfined']], [['--privileged']]])("a container allowed keyctl (%j) cannot read another's keys", async (flags) => {
    expect((await keyring(flags, 'add', 'hunter2')).stdout).toMatch(/^added \d+$/m);
    const read = (await keyring(flags)).stdout;
    expect(read).toMatch(/^session keyring \d+$/m);
    expect(read).toContain('found -1: (none)');
  });

  it('the default profile denies keyctl (these containers share one keyring)', async () => {
    expect((await keyring([])).stdout).toBe('session keyring -1\nfound -1: (none)\n');
  });
});
