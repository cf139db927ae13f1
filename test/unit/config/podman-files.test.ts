// registries.conf and containers.conf as Podman reads them, under skiff.conf: which files, in
// which order, what each overrides, and errors that name the file.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findRegistryConfig, loadConfig } from '../../../src/config/config.js';
import { registriesSources } from '../../../src/config/registries-conf.js';
import { scratchDir } from '../../helpers/scratch.js';

// A fake machine: ROOT/etc, ROOT/usr/share and a HOME, with the files given (paths under ROOT).
const machine = (files: Record<string, string>, env: Record<string, string> = {}) => {
  const root = scratchDir('skiff-podman-files-');
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  const home = join(root, 'home');
  mkdirSync(home, { recursive: true });
  const load = (skiffConf = '') => {
    const file = join(root, 'skiff.conf');
    writeFileSync(file, skiffConf);
    return loadConfig(file, { root, env: { HOME: home, ...Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v.replace('ROOT', root)])) } });
  };
  return { root, home, load };
};

const USER_REG = 'home/.config/containers/registries.conf';
const SYS_REG = 'etc/containers/registries.conf';

describe('registries.conf', () => {
  it('is read where skiff.conf says nothing, its drop-ins in name order over it', async () => {
    const m = machine({
      [SYS_REG]: 'unqualified-search-registries = ["sys.example"]\n[[registry]]\nlocation = "a.example"\ninsecure = true\n',
      'etc/containers/registries.conf.d/20-b.conf': 'unqualified-search-registries = ["second.example", "docker.io"]\n',
      'etc/containers/registries.conf.d/10-a.conf': 'unqualified-search-registries = ["first.example"]\n[aliases]\n"tool" = "quay.example/team/tool"\n',
      'etc/containers/registries.conf.d/notes.txt': 'unqualified-search-registries = ["ignored.example"]\n',
    });
    const config = await m.load();
    expect(config.unqualifiedSearchRegistries).toEqual(['second.example', 'docker.io']);
    expect(config.searchOrigin).toBe(join(m.root, 'etc/containers/registries.conf.d/20-b.conf'));
    expect(findRegistryConfig(config, 'a.example/x')).toMatchObject({ insecure: true, origin: join(m.root, SYS_REG) });
    expect(config.aliases.tool).toEqual({ value: 'quay.example/team/tool', origin: join(m.root, 'etc/containers/registries.conf.d/10-a.conf') });
  });

  it("the user's own file replaces the system's and its drop-ins", async () => {
    const m = machine({
      [SYS_REG]: 'unqualified-search-registries = ["sys.example"]\n',
      'etc/containers/registries.conf.d/shortnames.conf': '[aliases]\n"busybox" = "docker.io/library/busybox"\n',
      [USER_REG]: 'unqualified-search-registries = ["mine.example:5000"]\nshort-name-mode = "enforcing"\n',
      'home/.config/containers/registries.conf.d/50-more.conf': '[aliases]\n"app" = "mine.example:5000/app"\n',
    });
    const config = await m.load();
    expect(config.unqualifiedSearchRegistries).toEqual(['mine.example:5000']);
    expect(config.shortNameMode).toBe('enforcing');
    expect(Object.keys(config.aliases)).toEqual(['app']);
  });

  it('CONTAINERS_REGISTRIES_CONF names the main file, which must exist', async () => {
    const m = machine({ 'other.conf': 'unqualified-search-registries = ["env.example"]\n' }, { CONTAINERS_REGISTRIES_CONF: 'ROOT/other.conf' });
    expect((await m.load()).unqualifiedSearchRegistries).toEqual(['env.example']);
    const missing = machine({}, { CONTAINERS_REGISTRIES_CONF: 'ROOT/nope.conf' });
    await expect(missing.load()).rejects.toThrow(/cannot read .*nope.conf/);
    expect(registriesSources({ HOME: '/h', CONTAINERS_REGISTRIES_CONF: '/x.conf' })).toMatchObject({ main: '/x.conf', required: true });
  });

  it('merges [[registry]] tables by prefix and lets a later "" alias erase one; skiff.conf is applied last', async () => {
    const m = machine({
      [USER_REG]:
        '[[registry]]\nprefix = "r.example"\nlocation = "old.example"\n[[registry]]\nprefix = "keep.example"\nlocation = "keep.example"\nblocked = true\n[aliases]\n"x" = "r.example/x"\n"y" = "r.example/y"\n',
      'home/.config/containers/registries.conf.d/1.conf': '[[registry]]\nprefix = "r.example"\nlocation = "new.example"\n[aliases]\n"x" = ""\n',
    });
    const config = await m.load('[aliases]\n"y" = "skiff.example/y"\n[[registry]]\nprefix = "keep.example"\nlocation = "keep.example"\n');
    expect(findRegistryConfig(config, 'r.example/a')?.location).toBe('new.example');
    expect(findRegistryConfig(config, 'keep.example/a')?.blocked).toBe(false);
    expect(config.aliases.x).toBeUndefined();
    expect(config.aliases.y.value).toBe('skiff.example/y');
    const skiffSearch = await m.load('unqualified-search-registries = ["skiff.example"]\n');
    expect(skiffSearch.unqualifiedSearchRegistries).toEqual(['skiff.example']);
  });

  it('reads the version 1 format, and a wildcard prefix', async () => {
    const m = machine({
      [USER_REG]:
        '[registries.search]\nregistries = ["one.example", "two.example"]\n[registries.insecure]\nregistries = ["plain.example:5000"]\n[registries.block]\nregistries = ["bad.example"]\n',
      'home/.config/containers/registries.conf.d/w.conf': '[[registry]]\nprefix = "*.corp.example"\ninsecure = true\n',
    });
    const config = await m.load();
    expect(config.unqualifiedSearchRegistries).toEqual(['one.example', 'two.example']);
    expect(findRegistryConfig(config, 'plain.example:5000/a')?.insecure).toBe(true);
    expect(findRegistryConfig(config, 'bad.example/a')?.blocked).toBe(true);
    expect(findRegistryConfig(config, 'reg.eu.corp.example:443/app')).toMatchObject({ insecure: true, location: '' });
    expect(findRegistryConfig(config, 'corp.example.org/app')).toBeUndefined();
  });

  it('names the file and the problem', async () => {
    const cases: [string, RegExp][] = [
      [
        'unqualified-search-registries = ["https://x.example"]\n',
        /registries.conf: unqualified-search-registries "https:\/\/x.example": URL schemes are not supported/,
      ],
      ['unqualified-search-registries = ["not a host"]\n', /registries.conf: unqualified-search-registries entry "not a host" is not a registry/],
      ['short-name-mode = "strict"\n', /registries.conf: short-name-mode must be "enforcing", "permissive" or "disabled"/],
      ['[aliases]\n"quay.io/x" = "quay.io/x"\n', /alias "quay.io\/x" is not a short name/],
      ['[aliases]\n"x" = "x:latest"\n', /alias "x" = "x:latest": the value must be a fully qualified name/],
      ['[[registry]]\nprefix = "*.example.com:5000"\n', /a wildcard prefix is \*.domain/],
      ['[[registry]]\nlocation = "a.example"\n[[registry.mirror]]\ninsecure = true\n', /registry.mirror.location must be a string/],
      ['[registries.search]\nregistries = ["a.example"]\n[[registry]]\nlocation = "b.example"\n', /mixes the version 1 format/],
      ['unqualified-search-registries = [\n', /registries.conf is not valid TOML/],
    ];
    for (const [text, message] of cases) await expect(machine({ [USER_REG]: text }).load(), text).rejects.toThrow(message);
    await expect(machine({ 'home/.config/containers/registries.conf.d/v1.conf': '[registries.search]\nregistries = ["a.example"]\n' }).load()).rejects.toThrow(
      /v1.conf: a drop-in file must use the version 2 format/,
    );
  });
});

const USER_CONF = 'home/.config/containers/containers.conf';

describe('containers.conf', () => {
  it('layers /usr/share, /etc, its drop-ins and the user file; skiff.conf wins where both say', async () => {
    const m = machine({
      'usr/share/containers/containers.conf': '[containers]\ndns_servers = ["1.1.1.1"]\ntz = "UTC"\n[engine]\nruntime = "crun"\n',
      'etc/containers/containers.conf': '[containers]\ndns_servers = ["9.9.9.9"]\nenv = ["A=1"]\n',
      'etc/containers/containers.conf.d/10.conf': '[containers]\numask = "0077"\n',
      [USER_CONF]:
        '[containers]\nenv = ["B=2"]\n[engine]\nruntime = "runc"\nhooks_dir = ["/h"]\nevents_logger = "none"\n[engine.runtimes]\nmyrun = ["/opt/myrun"]\n',
      'home/.config/containers/containers.conf.d/99.conf': '[network]\ndefault_rootless_network_cmd = "slirp4netns"\n',
    });
    const config = await m.load();
    expect(config.containers).toMatchObject({ dnsServers: ['9.9.9.9'], tz: 'UTC', env: ['B=2'], umask: '0077' });
    expect(config.engine).toMatchObject({ runtime: 'runc', hooksDir: ['/h'], eventsLogger: 'none', runtimes: { myrun: ['/opt/myrun'] } });
    expect(config.network.backend).toBe('slirp4netns');
    const over = await m.load('[engine]\nruntime = "crun"\n[network]\nbackend = "pasta"\n');
    expect(over.engine.runtime).toBe('crun');
    expect(over.network.backend).toBe('pasta');
  });

  it('CONTAINERS_CONF is the only file read, and must exist', async () => {
    const m = machine({ [USER_CONF]: '[containers]\ntz = "UTC"\n', 'only.conf': '[containers]\nshm_size = "128m"\n' }, { CONTAINERS_CONF: 'ROOT/only.conf' });
    const config = await m.load();
    expect(config.containers).toEqual({ shmSize: '128m' });
    await expect(machine({}, { CONTAINERS_CONF: 'ROOT/none.conf' }).load()).rejects.toThrow(/cannot read .*none.conf/);
  });

  it('names the file that set a value skiff cannot take', async () => {
    const cases: [string, RegExp][] = [
      ['[containers]\ndns_servers = "1.1.1.1"\n', /containers.conf: containers.dns_servers must be a list of strings/],
      ['[containers]\numask = "22x"\n', /containers.conf: containers.umask "22x" is not an octal mask/],
      ['[containers]\ndefault_ulimits = ["nofile"]\n', /containers.default_ulimits entry "nofile" is not NAME=SOFT\[:HARD\]/],
      ['[containers]\nbase_hosts_file = "relative/hosts"\n', /base_hosts_file must be an absolute path/],
      ['[engine]\ncgroup_manager = "cgroupv1"\n', /containers.conf: cgroup_manager must be "systemd" or "cgroupfs"/],
      ['[containers]\ninit = "yes"\n', /containers.init must be true or false/],
    ];
    for (const [text, message] of cases) await expect(machine({ [USER_CONF]: text }).load(), text).rejects.toThrow(message);
  });

  it('leaves settings without an equivalent alone', async () => {
    const m = machine({
      [USER_CONF]: '[containers]\nlog_driver = "journald"\ndefault_sysctls = ["a=b"]\n[engine]\nevents_logger = "journald"\nconmon_path = ["/x"]\n',
    });
    const config = await m.load();
    expect(config.containers.logDriver).toBeUndefined();
    expect(config.engine.eventsLogger).toBeUndefined();
  });
});
