import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findRegistryConfig, loadConfig } from '../../../src/config/config.js';

const write = (text: string) => {
  const file = join(mkdtempSync(join(tmpdir(), 'skiff-conf-')), 'skiff.conf');
  writeFileSync(file, text);
  return file;
};

describe('skiff.conf', () => {
  it('defaults when missing', () => {
    expect(loadConfig('/nonexistent/skiff.conf')).toMatchObject({ unqualifiedSearchRegistries: ['docker.io'], storage: { userns: 'auto' } });
  });
  it('reads registries, mirrors and storage', () => {
    const config = loadConfig(
      write('unqualified-search-registries = ["quay.io", "docker.io"]\n[[registry]]\nprefix = "example.com"\nlocation = "mirror.local:5000"\ninsecure = true\n[[registry.mirror]]\nlocation = "m2:5000"\n[storage]\nuserns = "single"\n'),
    );
    expect(config.unqualifiedSearchRegistries).toEqual(['quay.io', 'docker.io']);
    expect(findRegistryConfig(config, 'example.com/a/b')).toMatchObject({ location: 'mirror.local:5000', insecure: true, mirrors: [{ location: 'm2:5000', insecure: false }] });
    expect(findRegistryConfig(config, 'example.community/a')).toBeUndefined();
    expect(config.storage.userns).toBe('single');
  });
  it('names the file and the problem when malformed', () => {
    const file = write('unqualified-search-registries = "docker.io"\n');
    expect(() => loadConfig(file)).toThrow(`${file}: unqualified-search-registries must be a list`);
    expect(() => loadConfig(write('[storage\n'))).toThrow(/is not valid TOML/);
    expect(() => loadConfig(write('[storage]\nuserns = "maybe"\n'))).toThrow(/storage.userns must be "auto" or "single"/);
  });
});
