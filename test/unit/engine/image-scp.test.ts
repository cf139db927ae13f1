// image scp's arguments: which way the image goes, the ssh target, and what is refused before ssh runs.
import { describe, expect, it } from 'vitest';
import { parseScpArgs } from '../../../src/engine/image-scp.js';

describe('parseScpArgs', () => {
  it('reads a push and a pull', () => {
    expect(parseScpArgs('busybox', 'me@host.example:2222::copy:v1')).toEqual({
      direction: 'push',
      image: 'busybox',
      remote: { user: 'me', host: 'host.example', port: 2222 },
      newName: 'docker.io/library/copy:v1',
    });
    expect(parseScpArgs('busybox', 'host::')).toEqual({ direction: 'push', image: 'busybox', remote: { host: 'host' }, newName: undefined });
    expect(parseScpArgs('[::1]:22::busybox', 'x')).toMatchObject({ direction: 'pull', image: 'busybox', remote: { host: '[::1]', port: 22 } });
    expect(parseScpArgs('h::busybox')).toMatchObject({ direction: 'pull', newName: undefined });
  });

  it('refuses local copies between users, two remotes and bad forms', () => {
    for (const [src, dst, message] of [
      ['busybox', undefined, /needs root/],
      ['busybox', 'root@localhost::', /needs root/],
      ['busybox', '::', /needs root/],
      ['localhost::busybox', undefined, /needs root/],
      ['a::busybox', 'b::', /two other hosts/],
      ['h::', undefined, /no image/],
      ['busybox', 'h:x::', /invalid port/],
      ['busybox', '-oProxyCommand=id::', /invalid host/],
      ['busybox', '-l@h::', /invalid user/],
      ['busybox', 'a b@h::', /invalid user/],
      ['busybox', 'h::$(id)', /invalid new name/],
      ['h::-o', undefined, /invalid image/],
      ['busybox', `h::x@sha256:${'a'.repeat(64)}`, /digest/],
    ] as [string, string | undefined, RegExp][])
      expect(() => parseScpArgs(src, dst), `${src} ${dst}`).toThrow(message);
  });
});
