// generate systemd's unit text (src/systemd/units.ts): the words systemd reads, the container's
// command line without what the unit decides itself, Restart= from the policy, --new's lines.
import { describe, expect, it } from 'vitest';
import type { ContainerRecord } from '../../../src/state/containers.js';
import { containerUnit, createVerb, runArguments, systemdWord, type UnitOptions, type UnitSetting } from '../../../src/systemd/units.js';

const FLAGS: UnitSetting['flags'] = new Map([
  ['--detach', 'none'],
  ['-d', 'none'],
  ['--interactive', 'none'],
  ['-i', 'none'],
  ['--tty', 'none'],
  ['-t', 'none'],
  ['--rm', 'none'],
  ['--replace', 'none'],
  ['--name', 'value'],
  ['--env', 'value'],
  ['-e', 'value'],
  ['--publish', 'value'],
  ['-p', 'value'],
  ['--restart', 'value'],
  ['--cidfile', 'value'],
  ['--sdnotify', 'value'],
  ['--read-only-tmpfs', 'optional'],
]);

const setting: UnitSetting = {
  skiff: '/opt/skiff/bin/skiff',
  version: '0.1.0',
  now: new Date(0),
  dataDir: '/home/u/.local/share/skiff',
  runDir: '/run/user/1000/skiff',
  flags: FLAGS,
};
const options = (more: Partial<UnitOptions> = {}): UnitOptions => ({
  containerPrefix: 'container',
  separator: '-',
  header: false,
  after: [],
  wants: [],
  requires: [],
  env: [],
  ...more,
});
const record = (more: Partial<ContainerRecord['config']> = {}, createCommand?: string[]): ContainerRecord =>
  ({
    id: 'a'.repeat(64),
    name: 'web',
    createCommand,
    config: { stopTimeout: 10, restartPolicy: { name: 'no', maxRetries: 0 }, ...more },
  }) as unknown as ContainerRecord;
const line = (text: string, key: string): string[] => text.split('\n').filter((l) => l.startsWith(`${key}=`));

describe('generate systemd', () => {
  it('quotes words as systemd reads them', () => {
    expect(systemdWord('plain')).toBe('plain');
    expect(systemdWord('two words')).toBe('"two words"');
    expect(systemdWord('say "hi"')).toBe('"say \\"hi\\""');
    expect(systemdWord('100%')).toBe('100%%');
    expect(systemdWord('$HOME')).toBe('$$HOME');
    expect(systemdWord('$HOME', false)).toBe('$HOME');
    expect(systemdWord('')).toBe('""');
    // A carriage return or newline would end the line for systemd: escaped, never written raw.
    expect(systemdWord('A=1\rExecStartPre=/bin/id')).toBe('"A=1\\rExecStartPre=/bin/id"');
    expect(systemdWord('a\nb\x01')).toBe('"a\\nb\\x01"');
  });

  it("drops what the unit decides from the container's command line, keeping the rest in order", () => {
    expect(
      runArguments(
        [
          'skiff',
          '--root',
          '/r',
          'run',
          '-dit',
          '--name',
          'web',
          '--rm',
          '-e',
          'A=1',
          '-p8080:80',
          '--restart=always',
          '--read-only-tmpfs',
          'false',
          '--cidfile',
          '/x',
          'img',
          'sh',
          '-c',
          'echo --name',
        ],
        FLAGS,
      ),
    ).toEqual([
      ['--root', '/r'],
      ['-it', '-e', 'A=1', '-p', '8080:80', '--read-only-tmpfs', 'false'],
      ['img', 'sh', '-c', 'echo --name'],
    ]);
    expect(runArguments(['skiff', 'container', 'create', '-d', '--sdnotify', 'container', 'img'], FLAGS)).toEqual([[], [], ['img']]);
    expect(() => runArguments(['skiff', 'pull', 'img'], FLAGS)).toThrow(/cannot read the command/);
    // Every global option that takes a value (the launcher's list), not only the first four.
    expect(runArguments(['skiff', '--tmpdir', '/t', '--runtime-flag', 'debug', 'run', 'img'], FLAGS)).toEqual([
      ['--tmpdir', '/t', '--runtime-flag', 'debug'],
      [],
      ['img'],
    ]);
    expect(createVerb(['skiff', '--root', 'run', 'create', 'img'])).toBe('create');
  });

  it('makes a Type=notify unit whose main process is the monitor, for an existing container', () => {
    const { name, text } = containerUnit(record(), options({ name: true }), setting);
    expect(name).toBe('container-web.service');
    const stores = '--root /home/u/.local/share/skiff --runroot /run/user/1000/skiff';
    expect(line(text, 'ExecStart')).toEqual([`ExecStart=/opt/skiff/bin/skiff ${stores} start --sdnotify=conmon web`]);
    expect(line(text, 'ExecStop')).toEqual([`ExecStop=/opt/skiff/bin/skiff ${stores} stop -t 10 web`]);
    expect(line(text, 'SuccessExitStatus')).toEqual(['SuccessExitStatus=143']);
    for (const l of ['Type=notify', 'NotifyAccess=all', 'KillMode=mixed', 'Delegate=yes', 'Restart=on-failure', 'TimeoutStopSec=70', 'WantedBy=default.target'])
      expect(text.split('\n')).toContain(l);
    expect(text).not.toMatch(/^#/m);
    expect(containerUnit(record(), options(), setting).name).toBe(`container-${'a'.repeat(64)}.service`);
  });

  it('with --new, creates and removes the container itself', () => {
    const made = record({ restartPolicy: { name: 'always', maxRetries: 0 } }, [
      'skiff',
      'run',
      '-d',
      '--restart',
      'always',
      '--name',
      'web',
      '-e',
      'GREETING=hello world',
      'img',
      'sleep',
      '600',
    ]);
    const { text } = containerUnit(made, options({ name: true, new: true, stopTimeout: 3, env: ['X=1'], after: ['db.service'] }), setting);
    expect(line(text, 'ExecStart')).toEqual([
      'ExecStart=/opt/skiff/bin/skiff run --cidfile=%t/%n.ctr-id --cgroups=no-conmon --rm --sdnotify=conmon -d --replace --name web -e "GREETING=hello world" img sleep 600',
    ]);
    expect(line(text, 'ExecStartPre')).toEqual(['ExecStartPre=/bin/rm -f %t/%n.ctr-id']);
    expect(line(text, 'ExecStopPost')).toEqual(['ExecStopPost=/opt/skiff/bin/skiff rm -f --ignore -t 3 --cidfile=%t/%n.ctr-id']);
    expect(line(text, 'Restart')).toEqual(['Restart=always']);
    expect(line(text, 'TimeoutStopSec')).toEqual(['TimeoutStopSec=63']);
    expect(line(text, 'Environment')).toEqual(['Environment=SKIFF_SYSTEMD_UNIT=%n', 'Environment=X=1']);
    expect(line(containerUnit(made, options({ env: ['P=a$b%c'] }), setting).text, 'Environment')[1]).toBe('Environment=P=a$b%%c');
    expect(line(text, 'After')).toContain('After=db.service');
    expect(() => containerUnit(record(), options({ new: true }), setting)).toThrow(/--new cannot repeat it/);
    expect(() => containerUnit(record(), options({ restartPolicy: 'sometimes' }), setting)).toThrow(/invalid --restart-policy "sometimes"/);
    expect(() => containerUnit(record(), options({ env: ['=x'] }), setting)).toThrow(/invalid --env "=x"/);
  });
});
