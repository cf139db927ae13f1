// Quadlet: `skiff systemd generate` as the user's systemd generator would run it (files in the
// sandbox's ~/.config/containers/systemd, units into a directory given), `systemd check`, and
// `systemd install-generator`'s script run as the user. No unit is started: there is no systemd
// session here (the VM lane starts them).
import { execFile } from 'node:child_process';
import { chownSync, existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SKIFF, testIds, useSandbox } from '../helpers/cli.js';

const sb = useSandbox('quadlet');

const quadletDir = () => join(sb.home, '.config/containers/systemd');

// Writes a file (and its missing parent dirs) owned by the test user, as skiff will read it.
const writeAsUser = (path: string, text: string): void => {
  const { uid, gid } = testIds();
  const missing: string[] = [];
  for (let d = dirname(path); !existsSync(d); d = dirname(d)) missing.unshift(d);
  for (const d of missing) {
    mkdirSync(d);
    chownSync(d, uid, gid);
  }
  writeFileSync(path, text);
  chownSync(path, uid, gid);
};

const FILES: Record<string, string> = {
  'web.container': [
    '[Unit]',
    'Description=The web server',
    '',
    '[Container]',
    'Image=quay.io/example/web:1',
    'ContainerName=web',
    'PublishPort=8080:80',
    'Volume=data.volume:/data',
    'Network=front.network',
    'Environment="GREETING=hello world"',
    'Exec=serve --port 80',
    '',
    '[Service]',
    'Restart=always',
    '',
    '[Install]',
    'WantedBy=default.target',
    '',
  ].join('\n'),
  'data.volume': '[Volume]\nVolumeName=webdata\n',
  'nets/front.network': '[Network]\nSubnet=10.89.42.0/24\n',
  'bad.container': '[Container]\nImage=quay.io/example/web:1\nPublishPort=abc\n',
};

// The values of `key` in a generated unit's text.
const linesOf = (text: string, key: string): string[] =>
  text
    .split('\n')
    .filter((l) => l.startsWith(`${key}=`))
    .map((l) => l.slice(key.length + 1));

describe('skiff systemd generate', () => {
  it("writes the user's units and their symlinks, and reports a bad file by line while making the others", async () => {
    for (const [name, text] of Object.entries(FILES)) writeAsUser(join(quadletDir(), name), text);
    const out = join(sb.dir, 'generator');
    const r = await sb.runCli(0, 'systemd', 'generate', out, join(sb.dir, 'early'), join(sb.dir, 'late'));
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      `skiff-generator: ${quadletDir()}/bad.container:3: invalid PublishPort 'abc': 'abc' is not a port or a port range; use [[IP:][HOST-PORT]:]CONTAINER-PORT[/PROTOCOL]\n`,
    );
    expect(existsSync(join(out, 'bad.service'))).toBe(false);

    const web = readFileSync(join(out, 'web.service'), 'utf8');
    expect(linesOf(web, 'ExecStart')).toEqual([
      `${SKIFF} run --name=web --cidfile=%t/%N.cid --replace --rm --cgroups=split --sdnotify=conmon -d --network=systemd-front --volume=webdata:/data --publish=8080:80 "--env=GREETING=hello world" quay.io/example/web:1 serve --port 80`,
    ]);
    expect(linesOf(web, 'ExecStop')).toEqual([`${SKIFF} stop --ignore --cidfile=%t/%N.cid`]);
    expect(linesOf(web, 'ExecStopPost')).toEqual([`-${SKIFF} rm -v -f -i --cidfile=%t/%N.cid`]);
    expect(linesOf(web, 'Type')).toEqual(['notify']);
    expect(linesOf(web, 'Restart')).toEqual(['always']);
    expect(linesOf(web, 'Requires')).toEqual(['front-network.service', 'data-volume.service']);
    expect(linesOf(web, 'SourcePath')).toEqual([`${quadletDir()}/web.container`]);
    expect(readlinkSync(join(out, 'default.target.wants/web.service'))).toBe('../web.service');

    expect(linesOf(readFileSync(join(out, 'data-volume.service'), 'utf8'), 'ExecStart')).toEqual([`${SKIFF} volume create --ignore webdata`]);
    const network = readFileSync(join(out, 'front-network.service'), 'utf8');
    expect(linesOf(network, 'ExecStart')).toEqual([`${SKIFF} network create --ignore --subnet=10.89.42.0/24 systemd-front`]);
    expect(linesOf(network, 'SourcePath')).toEqual([`${quadletDir()}/nets/front.network`]);
  });

  it('runs without HOME (as a generator may), and exits 0 with nothing to do', async () => {
    const out = join(sb.dir, 'nohome');
    const r = await sb.run(['systemd', 'generate', out], { env: { HOME: '' } });
    expect(r, r.stderr).toMatchObject({ code: 0, stdout: '' });
  });

  it('fails when it cannot write its output dir', async () => {
    writeAsUser(join(sb.dir, 'a-file'), '');
    const r = await sb.runCli(125, 'systemd', 'generate', join(sb.dir, 'a-file/out'));
    expect(r.stderr).toMatch(/^Error: cannot make the output directory .*a-file\/out: /);
  });
});

describe('skiff systemd check', () => {
  it('prints the units and exits 0 for good files', async () => {
    const r = await sb.runCli(0, 'systemd', 'check', join(quadletDir(), 'web.container'), join(quadletDir(), 'data.volume'));
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('---web.service---\n');
    expect(r.stdout).toContain('---data-volume.service---\n');
    expect(r.stdout).toContain('# enabled by the symlink default.target.wants/web.service -> ../web.service\n');
    expect(linesOf(r.stdout, 'ExecStart')[0]).toMatch(/ --volume=webdata:\/data .*quay.io\/example\/web:1 serve --port 80$/);
  });

  it('prints each error as FILE:LINE: message and exits 1; -q prints no units', async () => {
    const bad = join(quadletDir(), 'bad.container');
    writeAsUser(join(sb.dir, 'worse.container'), '[Container]\nNotify=sometimes\n');
    const r = await sb.runCli(1, 'systemd', 'check', '-q', bad, join(sb.dir, 'worse.container'), join(quadletDir(), 'data.volume'));
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n')).toEqual([
      `${bad}:3: invalid PublishPort 'abc': 'abc' is not a port or a port range; use [[IP:][HOST-PORT]:]CONTAINER-PORT[/PROTOCOL]`,
      `${sb.dir}/worse.container:1: no Image key specified in [Container]`,
      `${sb.dir}/worse.container:2: invalid Notify 'sometimes': use a boolean (yes: the container notifies; no: skiff does)`,
      '',
    ]);
    expect((await sb.runCli(1, 'systemd', 'check', join(sb.dir, 'missing.container'))).stderr).toBe(
      `${sb.dir}/missing.container: cannot read the file: ENOENT\n`,
    );
  });
});

// Runs a file as the test user, with the sandbox's environment.
const runAsUser = (file: string, args: string[]): Promise<{ code: number; stderr: string }> =>
  new Promise((resolve) => {
    execFile(file, args, { env: sb.env, cwd: sb.home, ...testIds() }, (error, _stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stderr }),
    );
  });

describe('skiff systemd install-generator', () => {
  const scriptDir = () => join(sb.home, 'generators');
  const script = () => join(scriptDir(), 'skiff-generator');
  const unitDir = () => join(sb.home, '.config/systemd/user');
  const outDir = () => join(sb.home, '.local/share/systemd/user');

  it('writes a runnable generator script where it is told, says what next, and --uninstall removes it', async () => {
    const r = await sb.runCli(0, 'systemd', 'install-generator', '--dir', scriptDir());
    expect(r.stdout).toBe(
      `Installed the Quadlet generator: ${script()}\nNext: systemctl --user daemon-reload, then systemctl --user start NAME for NAME.container\n`,
    );
    // systemd runs generators only from the system's directories: the command says so.
    expect(r.stderr).toMatch(
      /^WARN: systemd runs user generators only from \/run\/systemd\/user-generators, \/etc\/systemd\/user-generators, .*, so not this one/,
    );
    expect(statSync(script()).mode & 0o777).toBe(0o755);
    expect(readFileSync(script(), 'utf8')).toContain(`\nexec '${SKIFF}' systemd generate "$@"\n`);

    const out = join(sb.dir, 'from-script');
    const run = await runAsUser(script(), [out, join(sb.dir, 'e'), join(sb.dir, 'l')]);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('skiff-generator: ');
    expect(linesOf(readFileSync(join(out, 'web.service'), 'utf8'), 'ExecStart')[0]).toMatch(/^\S+ run --name=web /);
    expect(lstatSync(join(out, 'default.target.wants/web.service')).isSymbolicLink()).toBe(true);

    expect((await sb.runCli(0, 'systemd', 'install-generator', '--dir', scriptDir())).stdout).toMatch(/^Replaced the Quadlet generator: /);
    expect((await sb.runCli(0, 'systemd', 'install-generator', '--dir', scriptDir(), '--uninstall')).stdout).toBe(
      `Removed ${script()}\nNext: systemctl --user daemon-reload (the units it made go away)\n`,
    );
    expect(existsSync(script())).toBe(false);
    expect((await sb.runCli(0, 'systemd', 'install-generator', '--dir', scriptDir(), '--uninstall')).stdout).toBe(`No generator of skiff's at ${script()}\n`);
  });

  it('without root: a path unit and a service that write the units into ~/.local/share/systemd/user, kept in step', async () => {
    for (const [name, text] of Object.entries(FILES)) writeAsUser(join(quadletDir(), name), text);
    const r = await sb.runCli(0, 'systemd', 'install-generator');
    expect(r.stdout).toContain(`Installed ${join(unitDir(), 'skiff-quadlet.path')}\n`);
    for (const unit of ['web.service', 'data-volume.service', 'front-network.service']) expect(r.stdout).toMatch(new RegExp(`Units from .*${unit}`));
    expect(r.stderr).toMatch(/bad\.container:3: invalid PublishPort/);
    const path = readFileSync(join(unitDir(), 'skiff-quadlet.path'), 'utf8');
    expect(linesOf(path, 'PathChanged')).toEqual([quadletDir()]);
    expect(readlinkSync(join(unitDir(), 'default.target.wants/skiff-quadlet.path'))).toBe('../skiff-quadlet.path');
    const service = readFileSync(join(unitDir(), 'skiff-quadlet.service'), 'utf8');
    expect(linesOf(service, 'ExecStart')).toEqual([`${SKIFF} systemd generate --sync ${outDir()}`]);
    // What the service runs: the units there, their [Install] links, and a unit whose file went goes too.
    expect(existsSync(join(outDir(), 'web.service'))).toBe(true);
    expect(lstatSync(join(outDir(), 'default.target.wants/web.service')).isSymbolicLink()).toBe(true);
    writeAsUser(join(outDir(), 'mine.service'), '[Service]\nExecStart=/bin/true\n');
    const web = readFileSync(join(quadletDir(), 'web.container'), 'utf8');
    rmSync(join(quadletDir(), 'web.container'));
    await sb.runCli(0, 'systemd', 'generate', '--sync', outDir());
    expect(existsSync(join(outDir(), 'web.service'))).toBe(false);
    expect(existsSync(join(outDir(), 'default.target.wants/web.service'))).toBe(false);
    expect(existsSync(join(outDir(), 'data-volume.service'))).toBe(true);
    expect(existsSync(join(outDir(), 'mine.service'))).toBe(true); // not skiff's: left alone
    // A unit of the user's own under a Quadlet file's unit name is neither replaced nor removed.
    writeAsUser(join(outDir(), 'web.service'), '# mine\n[Service]\nExecStart=/bin/true\n');
    writeAsUser(join(quadletDir(), 'web.container'), web);
    const clash = await sb.run(['systemd', 'generate', '--sync', outDir()]);
    expect(clash.stderr).toMatch(/web\.service exists and skiff did not write it: leaving it/);
    expect(readFileSync(join(outDir(), 'web.service'), 'utf8')).toBe('# mine\n[Service]\nExecStart=/bin/true\n');
    rmSync(join(quadletDir(), 'web.container'));
    await sb.run(['systemd', 'generate', '--sync', outDir()]);
    expect(existsSync(join(outDir(), 'web.service'))).toBe(true);
    rmSync(join(outDir(), 'web.service'));
    writeAsUser(join(quadletDir(), 'web.container'), web);
    const off = await sb.runCli(0, 'systemd', 'install-generator', '--uninstall');
    expect(off.stdout).toContain(`Removed ${join(unitDir(), 'skiff-quadlet.service')}`);
    expect(existsSync(join(unitDir(), 'skiff-quadlet.path'))).toBe(false);
    expect(existsSync(join(unitDir(), 'default.target.wants/skiff-quadlet.path'))).toBe(false);
  });

  it('refuses to overwrite or remove a file skiff did not write', async () => {
    writeAsUser(script(), '#!/bin/sh\nexit 0\n');
    const message = `Error: ${script()} exists and skiff did not write it: move it away first, or install elsewhere with --dir\n`;
    expect((await sb.runCli(125, 'systemd', 'install-generator', '--dir', scriptDir())).stderr).toBe(message);
    expect((await sb.runCli(125, 'systemd', 'install-generator', '--dir', scriptDir(), '--uninstall')).stderr).toBe(message);
    expect(readFileSync(script(), 'utf8')).toBe('#!/bin/sh\nexit 0\n');
    rmSync(script());
  });
});
