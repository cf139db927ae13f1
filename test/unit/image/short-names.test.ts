// Short-name resolution as Podman's: an alias outright, else the search registries in order;
// short-name-mode "enforcing" refuses an ambiguous name.
import { describe, expect, it } from 'vitest';
import { defaultConfig, type SkiffConfig } from '../../../src/config/config.js';
import { parseReference, formatReference } from '../../../src/image/reference.js';
import { aliasedName, pullCandidates } from '../../../src/image/short-names.js';

const config = (over: Partial<SkiffConfig>): SkiffConfig => ({ ...defaultConfig(), ...over });
const names = (c: SkiffConfig, input: string) => pullCandidates(c, parseReference(input)).map(formatReference);

describe('pullCandidates', () => {
  it('tries each search registry in order, Docker Hub with library/', () => {
    const c = config({ unqualifiedSearchRegistries: ['127.0.0.1:5000', 'docker.io'] });
    expect(names(c, 'busybox')).toEqual(['127.0.0.1:5000/busybox:latest', 'docker.io/library/busybox:latest']);
    expect(names(c, 'team/app:1')).toEqual(['127.0.0.1:5000/team/app:1', 'docker.io/team/app:1']);
    expect(names(c, 'quay.io/team/app')).toEqual(['quay.io/team/app:latest']);
  });

  it('takes an alias over the search registries, keeping the tag or digest given', () => {
    const c = config({
      unqualifiedSearchRegistries: ['a.example', 'b.example'],
      shortNameMode: 'enforcing',
      aliases: { busybox: { value: 'mirror.example:5000/tools/busybox', origin: 'f' }, 'team/app': { value: 'docker.io/team/app', origin: 'f' } },
    });
    expect(names(c, 'busybox:1.36')).toEqual(['mirror.example:5000/tools/busybox:1.36']);
    const digest = `sha256:${'a'.repeat(64)}`;
    expect(names(c, `team/app@${digest}`)).toEqual([`docker.io/team/app@${digest}`]);
  });

  it('refuses an ambiguous short name in enforcing mode, and a short name with no search registry', () => {
    const enforcing = config({ unqualifiedSearchRegistries: ['a.example', 'b.example'], shortNameMode: 'enforcing' });
    expect(() => names(enforcing, 'busybox')).toThrow(
      'short name "busybox" matches several search registries (a.example, b.example) and short-name-mode is "enforcing": use a fully qualified name or add an [aliases] entry to registries.conf',
    );
    expect(names(config({ ...enforcing, unqualifiedSearchRegistries: ['a.example'] }), 'busybox')).toEqual(['a.example/busybox:latest']);
    expect(names(config({ ...enforcing, shortNameMode: 'permissive' }), 'busybox')).toHaveLength(2);
    expect(() => names(config({ unqualifiedSearchRegistries: [], searchOrigin: '/home/u/.config/containers/registries.conf' }), 'busybox')).toThrow(
      'short name "busybox" did not resolve to an alias and no unqualified-search-registries are defined in /home/u/.config/containers/registries.conf',
    );
  });

  it('names the image an alias pulled, for local lookups', () => {
    const c = config({ aliases: { mybox: { value: 'r.example:5000/tools/busybox', origin: 'f' } } });
    expect(aliasedName(c, 'mybox:1')).toBe('r.example:5000/tools/busybox:1');
    expect(aliasedName(c, 'other')).toBeUndefined();
    expect(aliasedName(c, 'r.example:5000/mybox')).toBeUndefined();
    expect(aliasedName(c, 'Not A Name')).toBeUndefined();
  });
});
