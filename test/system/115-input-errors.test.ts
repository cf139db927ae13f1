// Names and environment entries skiff cannot use: refused with exit 125 and one line that says why,
// before anything is pulled, launched or written; and errors that speak of a container's files name
// them as the container's paths, never where the store keeps them.
import { chownSync, existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { testIds, useSandbox } from '../helpers/cli.js';
import { storeContents } from '../helpers/store.js';

const plain = inject('plainRegistry');
const IMG = `${plain}/skiff/busybox`;

const sb = useSandbox('input');

const entries = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir) : []);
const containerEntries = () => entries(join(sb.dataDir, 'containers')).filter((n) => n !== 'names');
const names = () => entries(join(sb.dataDir, 'containers', 'names'));

// Exit 125 and exactly `line` on stderr, nothing else.
const expectRefused = async (args: string[], line: string) => {
  const result = await sb.run(args);
  expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 125, stderr: `Error: ${line}\n` });
};

describe('container names', () => {
  it('a name over 200 characters is refused before the image is pulled', async () => {
    const long = 'n'.repeat(300);
    await expectRefused(
      ['run', '--name', long, IMG, 'true'],
      'invalid container name "nnnnnnnnnnnnnnnnnnnn…": it is 300 characters long, at most 200 are allowed',
    );
    await expectRefused(
      ['create', '--name', long, IMG, 'true'],
      'invalid container name "nnnnnnnnnnnnnnnnnnnn…": it is 300 characters long, at most 200 are allowed',
    );
    expect(storeContents(sb.dataDir)).toMatchObject({ images: [], layers: [] });
    expect(containerEntries()).toEqual([]);
  });

  it('a name breaking the rule is refused in one line, whatever it holds', async () => {
    await expectRefused(
      ['create', '--name', 'two\nlines', IMG, 'true'],
      'invalid container name "two\\nlines": use letters, digits, _ . - (starting with a letter or digit)',
    );
    await expectRefused(
      ['create', '--name', '-dash', IMG, 'true'],
      'invalid container name "-dash": use letters, digits, _ . - (starting with a letter or digit)',
    );
    expect(containerEntries()).toEqual([]);
  });

  it('200 characters are fine; rename and network create keep the same cap', async () => {
    await sb.runCli(0, 'pull', '-q', IMG);
    const longest = `a${'b'.repeat(199)}`;
    await sb.runCli(0, 'create', '--name', longest, IMG, 'true');
    expect(names()).toEqual([longest]);
    await expectRefused(
      ['rename', longest, 'r'.repeat(201)],
      'invalid container name "rrrrrrrrrrrrrrrrrrrr…": it is 201 characters long, at most 200 are allowed',
    );
    expect(names()).toEqual([longest]);
    await sb.runCli(0, 'rm', longest);
    await expectRefused(
      ['network', 'create', 'w'.repeat(300)],
      'invalid network name "wwwwwwwwwwwwwwwwwwww…": it is 300 characters long, at most 200 are allowed',
    );
    // (The default network's record, made by the create above, is the only one.)
    expect(entries(join(sb.dataDir, 'networks'))).toEqual(['podman.json']);
    expect(containerEntries()).toEqual([]);
  });
});

describe('environment entries', () => {
  it('an empty or blank variable name is refused by run, create, --env-file and exec', async () => {
    await expectRefused(['run', '--rm', '-e', '=x', IMG, 'true'], 'invalid environment variable "=x": the name before "=" is empty');
    await expectRefused(['create', '--env', '=', IMG, 'true'], 'invalid environment variable "=": the name before "=" is empty');
    await expectRefused(['run', '--rm', '-e', 'A B=x', IMG, 'true'], 'invalid environment variable "A B=x": the name contains a blank');
    const envFile = join(sb.dir, 'env');
    writeFileSync(envFile, 'GOOD=1\n=bad\n');
    const { uid, gid } = testIds();
    chownSync(envFile, uid, gid);
    await expectRefused(['run', '--rm', '--env-file', envFile, IMG, 'true'], 'invalid environment variable "=bad": the name before "=" is empty');
    expect(containerEntries()).toEqual([]);

    await sb.runCli(0, 'run', '-d', '--name', 'envy', IMG, 'sh', '-c', 'sleep 30');
    await expectRefused(['exec', '-e', '=x', 'envy', 'sh', '-c', 'true'], 'invalid environment variable "=x": the name before "=" is empty');
    const ok = await sb.runCli(0, 'exec', '-e', 'FROM_EXEC=yes', 'envy', 'sh', '-c', 'echo $FROM_EXEC');
    expect(ok.stdout).toBe('yes\n');
    await expectRefused(['exec', '--workdir', 'relative', 'envy', 'sh', '-c', 'pwd'], 'invalid working directory "relative": it must be an absolute path');
    await sb.runCli(0, 'rm', '-f', 'envy');
  });
});

describe('container paths in messages', () => {
  it('cp into a container names the container path, not the store path', async () => {
    await sb.runCli(0, 'create', '--name', 'files', IMG, 'true');
    const missing = await sb.run(['cp', '/etc/hostname', 'files:/nonexistent/dir/x']);
    const notDir = await sb.run(['cp', '/etc/hostname', 'files:/etc/passwd/x']);
    for (const [result, path] of [
      [missing, '/nonexistent/dir'],
      [notDir, '/etc/passwd/x'],
    ] as const) {
      expect(result.code, result.stderr).toBe(125);
      expect(result.stderr.split('\n')).toHaveLength(2);
      expect(result.stderr).toContain(path);
      expect(result.stderr).toContain('container files');
      expect(result.stderr).not.toContain(sb.dataDir);
    }
    await sb.runCli(0, 'rm', 'files');
  });
});
