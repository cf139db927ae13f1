import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkFiles, findQuadletFiles, generate, quadletDirs, quadletRefs, translateSources, writeUnits } from '../../../src/systemd/generator.js';
import { generatorScript, installGenerator, runsGenerators, uninstallGenerator } from '../../../src/systemd/generator-install.js';
import { formatQuadletError } from '../../../src/systemd/quadlet.js';

const SKIFF = '/opt/skiff/bin/skiff';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'skiff-quadlet-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

// Writes files under `dir` from a { 'relative/path': text } tree.
const tree = (files: Record<string, string>): void => {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
};

describe('quadletDirs', () => {
  it("searches the user's config dir, then the administrator's for the uid, then for all users", () => {
    expect(quadletDirs({ HOME: '/home/u' }, 1000)).toEqual([
      '/home/u/.config/containers/systemd',
      '/etc/containers/systemd/users/1000',
      '/etc/containers/systemd/users',
    ]);
    expect(quadletDirs({ HOME: '/home/u', XDG_CONFIG_HOME: '/cfg' }, 1000)[0]).toBe('/cfg/containers/systemd');
  });

  it("falls back on the passwd entry's home when HOME is unset or empty", () => {
    expect(quadletDirs({}, 1)[0]).toBe(join(userInfo().homedir, '.config/containers/systemd'));
    expect(quadletDirs({ HOME: '' }, 1)[0]).toBe(join(userInfo().homedir, '.config/containers/systemd'));
  });
});

describe('findQuadletFiles', () => {
  it('takes the first file of each name, walks subdirectories, skips drop-in dirs and other files', () => {
    tree({
      'a/web.container': 'first',
      'a/sub/db.container': 'db',
      'a/web.container.d/override.conf': 'x',
      'a/notes.txt': 'x',
      'b/web.container': 'second',
      'b/data.volume': 'vol',
    });
    const found = findQuadletFiles([join(dir, 'a'), join(dir, 'missing'), join(dir, 'b')]);
    expect(found.map((f) => [f.name, f.path.slice(dir.length), f.text])).toEqual([
      ['data.volume', '/b/data.volume', 'vol'],
      ['db.container', '/a/sub/db.container', 'db'],
      ['web.container', '/a/web.container', 'first'],
    ]);
  });

  it("follows a symlinked search dir, and skips other uids' dirs under users/", () => {
    tree({ 'real/x.network': '', 'users/1234/y.container': '', 'users/shared/z.volume': '' });
    symlinkSync(join(dir, 'real'), join(dir, 'link'));
    expect(findQuadletFiles([join(dir, 'link'), join(dir, 'users')]).map((f) => f.name)).toEqual(['x.network', 'z.volume']);
  });

  it('keeps why a file could not be read', () => {
    tree({ 'a/x.container': '[Container]\nImage=x\n' });
    chmodSync(join(dir, 'a/x.container'), 0);
    const [found] = findQuadletFiles([join(dir, 'a')]);
    if (process.getuid?.() === 0) expect(found.text).toBeDefined();
    else expect(found.readError).toBe('EACCES');
  });
});

describe('translateSources and writeUnits', () => {
  it('translates the good files, reports the bad ones, and refuses two files making one unit', () => {
    const sources = [
      { path: '/q/web.container', name: 'web.container', text: '[Container]\nImage=x\nVolume=data.volume:/d\n' },
      { path: '/q/data.volume', name: 'data.volume', text: '[Volume]\nVolumeName=webdata\n' },
      { path: '/q/bad.container', name: 'bad.container', text: '[Container]\nImage=x\nPublishPort=abc\n' },
      { path: '/q/data-volume.container', name: 'data-volume.container', text: '[Container]\nImage=x\n' },
      { path: '/q/gone.container', name: 'gone.container', readError: 'EACCES' },
    ];
    const { units, errors } = translateSources(sources, quadletRefs(sources), SKIFF);
    expect(units.map((u) => u.unitName)).toEqual(['web.service', 'data-volume.service']);
    expect(units[0].unitText).toContain('--volume=webdata:/d');
    expect(errors.map(formatQuadletError)).toEqual([
      "/q/bad.container:3: invalid PublishPort 'abc': 'abc' is not a port or a port range; use [[IP:][HOST-PORT]:]CONTAINER-PORT[/PROTOCOL]",
      '/q/data-volume.container:1: it would make data-volume.service, which /q/data.volume makes already',
      '/q/gone.container: cannot read the file: EACCES',
    ]);
  });

  it('writes units and their symlinks, replacing old links', () => {
    const out = join(dir, 'out');
    mkdirSync(join(out, 'default.target.wants'), { recursive: true });
    symlinkSync('/elsewhere', join(out, 'default.target.wants/web.service'));
    const failures = writeUnits(out, [
      { unitName: 'web.service', unitText: '[Service]\n', links: [{ path: 'default.target.wants/web.service', target: '../web.service' }] },
    ]);
    expect(failures).toEqual([]);
    expect(readFileSync(join(out, 'web.service'), 'utf8')).toBe('[Service]\n');
    expect(readlinkSync(join(out, 'default.target.wants/web.service'))).toBe('../web.service');
    expect(readFileSync(join(out, 'default.target.wants/web.service'), 'utf8')).toBe('[Service]\n');
  });

  it('refuses an output dir it cannot make', () => {
    writeFileSync(join(dir, 'file'), '');
    expect(() => writeUnits(join(dir, 'file/out'), [])).toThrow(/cannot make the output directory .*file\/out/);
  });
});

describe('generate and checkFiles', () => {
  it("translates the user's files into the output dir, a bad file not stopping the others", () => {
    tree({
      'home/.config/containers/systemd/web.container': '[Container]\nImage=x\nNetwork=front.network\n[Install]\nWantedBy=default.target\n',
      'home/.config/containers/systemd/net/front.network': '[Network]\n',
      'home/.config/containers/systemd/bad.container': '[Container]\nImage=x\nNotify=perhaps\n',
    });
    const out = join(dir, 'out');
    const report = generate(out, SKIFF, { HOME: join(dir, 'home') });
    expect(report.written).toEqual(['front-network.service', 'web.service']);
    expect(report.failures).toEqual([]);
    expect(report.errors.map(formatQuadletError)).toEqual([
      `${dir}/home/.config/containers/systemd/bad.container:3: invalid Notify 'perhaps': use a boolean (yes: the container notifies; no: skiff does)`,
    ]);
    expect(readFileSync(join(out, 'web.service'), 'utf8')).toContain('Requires=front-network.service');
    expect(readlinkSync(join(out, 'default.target.wants/web.service'))).toBe('../web.service');
    expect(existsSync(join(out, 'bad.service'))).toBe(false);
  });

  it('check resolves references against the files beside the one checked', () => {
    tree({ 'p/web.container': '[Container]\nImage=x\nVolume=data.volume:/d\n', 'p/data.volume': '[Volume]\nVolumeName=webdata\n' });
    const { units, errors } = checkFiles([join(dir, 'p/web.container')], SKIFF, { HOME: join(dir, 'nohome') });
    expect(errors).toEqual([]);
    expect(units[0].unitText).toContain('--volume=webdata:/d');
    expect(checkFiles([join(dir, 'p/nothere.container')], SKIFF, { HOME: join(dir, 'nohome') }).errors.map(formatQuadletError)).toEqual([
      `${dir}/p/nothere.container: cannot read the file: ENOENT`,
    ]);
  });
});

describe('installGenerator', () => {
  it('knows which dirs systemd runs user generators from: none in a home', () => {
    expect(['/etc/systemd/user-generators', '/usr/local/lib/systemd/user-generators/', '/run/systemd/user-generators'].every(runsGenerators)).toBe(true);
    expect(['/home/u/.config/systemd/user-generators', '/etc/systemd/system-generators'].some(runsGenerators)).toBe(false);
  });

  it('writes an executable script that runs skiff systemd generate, quoting the path', () => {
    const gen = join(dir, 'gens');
    const report = installGenerator(gen, "/opt/it's here/bin/skiff");
    expect(report).toEqual({ path: join(gen, 'skiff-generator'), searched: false, existed: false });
    const script = readFileSync(report.path, 'utf8');
    expect(script.split('\n')[0]).toBe('#!/bin/sh');
    expect(script).toContain(`exec '/opt/it'\\''s here/bin/skiff' systemd generate "$@"\n`);
    expect(statSync(report.path).mode & 0o777).toBe(0o755);
    expect(installGenerator(gen, SKIFF).existed).toBe(true);
    expect(readFileSync(report.path, 'utf8')).toBe(generatorScript(SKIFF));
  });

  it('refuses to replace or remove a file skiff did not write; removes its own', () => {
    const gen = join(dir, 'gens');
    tree({ 'gens/skiff-generator': '#!/bin/sh\necho mine\n' });
    expect(() => installGenerator(gen, SKIFF)).toThrow(
      `${gen}/skiff-generator exists and skiff did not write it: move it away first, or install elsewhere with --dir`,
    );
    expect(() => uninstallGenerator(gen)).toThrow('skiff did not write it');
    expect(readFileSync(join(gen, 'skiff-generator'), 'utf8')).toBe('#!/bin/sh\necho mine\n');
    rmSync(join(gen, 'skiff-generator'));
    installGenerator(gen, SKIFF);
    expect(uninstallGenerator(gen)).toEqual({ path: join(gen, 'skiff-generator'), searched: false, existed: true });
    expect(existsSync(join(gen, 'skiff-generator'))).toBe(false);
    expect(uninstallGenerator(gen).existed).toBe(false);
  });
});
