// Completions: generated from the command tree; the scripts call `skiff __complete`, which offers
// commands, flags and local image names.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { REPO, SKIFF, asTestUser, useSandbox } from '../helpers/cli.js';

const plain = inject('plainRegistry');
const sb = useSandbox('completion', { pull: [`${plain}/skiff/busybox`] });

const complete = async (...words: string[]) => (await sb.runCli(0, '__complete', ...words)).stdout.trim().split('\n').filter(Boolean);

describe('completion', () => {
  it('offers commands, subcommands and flags', async () => {
    expect(await complete('im')).toEqual(['import', 'images', 'image']);
    expect(await complete('image', '')).toEqual(expect.arrayContaining(['ls', 'list', 'pull', 'inspect', 'rm', 'prune']));
    expect(await complete('images', '--f')).toEqual(['--filter', '--format']);
    expect(await complete('system', 'c')).toEqual(['check']);
  });

  it('offers local image names where an image is expected', async () => {
    expect(await complete('rmi', '')).toEqual([`${plain}/skiff/busybox:latest`]);
    expect(await complete('image', 'inspect', '127')).toEqual([`${plain}/skiff/busybox:latest`]);
    expect(await complete('pull', '')).toEqual([]);
  });

  it('offers container names where a container is expected, running ones where only those work', async () => {
    await sb.runCli(0, 'create', '--name', 'idle', `${plain}/skiff/busybox`, 'sh');
    await sb.runCli(0, 'run', '-d', '--name', 'busy', `${plain}/skiff/busybox`, 'sh', '-c', 'sleep 30');
    expect((await complete('rm', '')).sort()).toEqual(['busy', 'idle']);
    expect(await complete('container', 'logs', 'i')).toEqual(['idle']);
    expect(await complete('exec', '')).toEqual(['busy']);
    expect(await complete('cp', 'b')).toEqual(['busy:']);
    expect(await complete('run', '127')).toEqual([`${plain}/skiff/busybox:latest`]);
    expect(await complete('run', `${plain}/skiff/busybox:latest`, '')).toEqual([]);
    await sb.runCli(0, 'rm', '-f', 'busy', 'idle');
  });

  it('ships the generated scripts, identical to `skiff completion`', async () => {
    for (const [shell, file] of [
      ['bash', 'skiff.bash'],
      ['zsh', '_skiff'],
      ['fish', 'skiff.fish'],
    ]) {
      expect(readFileSync(join(REPO, 'completions', shell, file), 'utf8')).toBe((await sb.runCli(0, 'completion', shell)).stdout);
    }
  });

  // Runs the generated bash function as bash would with these words (and line, where bash has split it).
  const bashComplete = (words: string[], line?: string): string[] => {
    // A `skiff` on PATH that runs this checkout as the sandbox user, as an installed one would.
    const bin = join(sb.dir, 'bin');
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'skiff'), `#!/bin/sh\nexec ${SKIFF} "$@"\n`);
    chmodSync(join(bin, 'skiff'), 0o755);
    chmodSync(sb.dir, 0o755);
    const quoted = words.map((w) => `'${w}'`).join(' ');
    const setLine = line === undefined ? '' : `COMP_LINE='${line}'; COMP_POINT=${line.length}; `;
    const script = `source ${join(REPO, 'completions/bash/skiff.bash')}; ${setLine}COMP_WORDS=(${quoted}); COMP_CWORD=${words.length - 1}; _skiff; printf '%s\\n' "\${COMPREPLY[@]}"`;
    const out = execFileSync('bash', ['-c', script], { env: { ...sb.env, PATH: `${bin}:${sb.env.PATH}` }, ...asTestUser() }).toString();
    return out.split('\n').filter(Boolean);
  };

  it('completes through the real bash script', async () => {
    expect(bashComplete(['skiff', 'image', 'ex'])).toEqual(['exists']);
  });

  it('keeps host:port/name:tag whole though bash splits words at the colon', async () => {
    const [host, port] = plain.split(':');
    // bash's words for "skiff rmi HOST:PORT/sk": the colon is a word of its own; it replaces only the last one.
    expect(bashComplete(['skiff', 'rmi', host, ':', `${port}/sk`], `skiff rmi ${plain}/sk`)).toEqual([`${port}/skiff/busybox:latest`]);
    expect(bashComplete(['skiff', 'rmi', host, ':'], `skiff rmi ${plain}:`)).toEqual([`:${port}/skiff/busybox:latest`]);
    expect(bashComplete(['skiff', 'ps', '--filter', '=', 'sta'], 'skiff ps --filter=sta')).toEqual(['status=']);
  });

  it("offers Podman's --filter keys for ps and images, and values where they are known", async () => {
    expect(await complete('ps', '--filter', '')).toEqual([
      'name=',
      'before=',
      'volume=',
      'health=',
      'network=',
      'since=',
      'label=',
      'exited=',
      'until=',
      'id=',
      'status=',
      'ancestor=',
    ]);
    expect(await complete('ps', '--filter', 'status=r')).toEqual(['status=running']);
    expect(await complete('container', 'ls', '-f', 'ancestor=')).toEqual([`ancestor=${plain}/skiff/busybox:latest`]);
    expect(await complete('ps', '--filter=sta')).toEqual(['--filter=status=']);
    expect(await complete('images', '--filter', '')).toEqual(['label=', 'reference=', 'before=', 'since=', 'dangling=', 'readonly=']);
    expect(await complete('images', '--filter', 'dangling=')).toEqual(['dangling=true', 'dangling=false']);
    // podman __complete top CTR '': its descriptors.
    expect(await complete('top', 'ctr', 'c')).toEqual(['capamb', 'capbnd', 'capeff', 'capinh', 'capprm', 'comm']);
  });
});
