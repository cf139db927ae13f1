import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findRegistryConfig, loadConfig } from '../../../src/config/config.js';
import { scratchDir } from '../../helpers/scratch.js';

const write = (text: string) => {
  const file = join(scratchDir('skiff-conf-'), 'skiff.conf');
  writeFileSync(file, text);
  return file;
};

describe('skiff.conf', () => {
  it('defaults when missing', async () => {
    expect(await loadConfig('/nonexistent/skiff.conf')).toMatchObject({
      unqualifiedSearchRegistries: ['docker.io'],
      storage: { userns: 'auto' },
      network: { backend: 'auto' },
    });
  });
  it('reads registries, mirrors and storage', async () => {
    const config = await loadConfig(
      write(
        'unqualified-search-registries = ["quay.io", "docker.io"]\n[[registry]]\nprefix = "example.com"\nlocation = "mirror.local:5000"\ninsecure = true\n[[registry.mirror]]\nlocation = "m2:5000"\n[storage]\nuserns = "single"\n[network]\nbackend = "slirp4netns"\n',
      ),
    );
    expect(config.unqualifiedSearchRegistries).toEqual(['quay.io', 'docker.io']);
    expect(findRegistryConfig(config, 'example.com/a/b')).toMatchObject({
      location: 'mirror.local:5000',
      insecure: true,
      mirrors: [{ location: 'm2:5000', insecure: false }],
    });
    expect(findRegistryConfig(config, 'example.community/a')).toBeUndefined();
    expect(config.storage.userns).toBe('single');
    expect(config.network.backend).toBe('slirp4netns');
  });
  it("reads the events log's cap as Podman writes it (decimal units), 1 MB by default", async () => {
    expect((await loadConfig('/nonexistent/skiff.conf')).engine.eventsLogfileMaxSize).toBe(1_000_000);
    for (const [value, bytes] of [
      ['"2m"', 2_000_000],
      ['"512k"', 512_000],
      ['"100"', 100],
      ['4096', 4096],
      ['0', 0],
    ] as const)
      expect((await loadConfig(write(`[engine]\nevents_logfile_max_size = ${value}\n`))).engine.eventsLogfileMaxSize).toBe(bytes);
    await expect(loadConfig(write('[engine]\nevents_logfile_max_size = "lots"\n'))).rejects.toThrow(
      /events_logfile_max_size must be a size such as "1m", "512k" or 0/,
    );
  });
  it('names the file and the problem when malformed', async () => {
    const file = write('unqualified-search-registries = "docker.io"\n');
    await expect(loadConfig(file)).rejects.toThrow(`${file}: unqualified-search-registries must be a list`);
    await expect(loadConfig(write('[storage\n'))).rejects.toThrow(/is not valid TOML/);
    await expect(loadConfig(write('[storage]\nuserns = "maybe"\n'))).rejects.toThrow(/storage.userns must be "auto" or "single"/);
    await expect(loadConfig(write('[network]\nbackend = "vde"\n'))).rejects.toThrow(/network.backend must be one of "auto", "bridge", "pasta", "slirp4netns"/);
    await expect(loadConfig(write('[storage]\nrootfs = "zfs"\n'))).rejects.toThrow(/storage.rootfs must be one of "auto", "overlay"/);
  });
  it('refuses a file over 1 MiB, and one without end, naming the cap', async () => {
    const file = write(`# ${'x'.repeat(1024 * 1024)}\n`);
    await expect(loadConfig(file)).rejects.toMatchObject({
      code: 'ECONFIG',
      message: `config file ${file} is larger than 1 MiB, the limit for it: refusing to read it`,
    });
    await expect(loadConfig('/dev/zero')).rejects.toThrow('config file /dev/zero is larger than 1 MiB');
  });
});
