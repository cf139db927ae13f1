// Each network mode's answers: helper, namespace, /etc files, addresses and the split of ports.
import { describe, expect, it } from 'vitest';
import { networkMode } from '../../../src/network/modes.js';
import type { PortMapping } from '../../../src/network/ports.js';

const port = (protocol: 'tcp' | 'udp', hostIp = '0.0.0.0'): PortMapping => ({ protocol, hostIp, hostPort: 8080, containerPort: 80 });
const paths = { netnsPath: '/run/ns/x', pastaPidFile: '/run/x/pasta.pid', slirpSocket: '/run/x/slirp.sock' };
const shared = () => '/proc/42/ns/net';

describe('network modes', () => {
  it("knows each mode from a container's configuration", () => {
    expect(networkMode({ network: 'pasta' }).kind).toBe('pasta');
    expect(networkMode({ network: 'slirp4netns' }).kind).toBe('slirp4netns');
    expect(networkMode({ network: 'none' }).kind).toBe('none');
    expect(networkMode({ network: 'host' }).kind).toBe('host');
    expect(networkMode({ network: 'container:db' }).kind).toBe('container');
    expect(networkMode({ network: 'app', namedNetwork: true }).kind).toBe('named');
  });

  it('gives each its namespace, helper and name server', () => {
    expect(networkMode({ network: 'pasta' }).namespace(paths, shared)).toEqual({ path: '/run/ns/x' });
    expect(networkMode({ network: 'container:db' }).namespace(paths, shared)).toEqual({ path: '/proc/42/ns/net' });
    expect(networkMode({ network: 'host' }).namespace(paths, shared)).toBe('host');
    for (const network of ['slirp4netns', 'none']) expect(networkMode({ network }).namespace(paths, shared)).toBe('private');
    expect(networkMode({ network: 'pasta' }).helper?.binary).toBe('pasta');
    expect(networkMode({ network: 'slirp4netns' }).helperArgs(paths, []).join(' ')).toContain('/run/x/slirp.sock');
    expect(networkMode({ network: 'none' }).helper).toBeUndefined();
    expect(networkMode({ network: 'slirp4netns' }).nameserver()).toBe('10.0.2.3');
    expect(networkMode({ network: 'app', namedNetwork: true }).nameserver('10.89.0.1')).toBe('10.89.0.1');
    expect(networkMode({ network: 'none' }).nameserver()).toBeUndefined();
    expect(networkMode({ network: 'slirp4netns' }).hostAddress(false)).toBe('host-address');
    expect(networkMode({ network: 'app', namedNetwork: true }).hostAddress(true)).toBe('10.0.2.2');
    expect(networkMode({ network: 'app', namedNetwork: true }).hostAddress(false)).toBeUndefined();
  });

  it("splits published ports: pasta forwards TCP, the monitor IPv4, slirp4netns's API IPv6", () => {
    const ports = [port('tcp'), port('udp'), port('tcp', '::1'), port('udp', '::')];
    expect(networkMode({ network: 'pasta' }).planPorts(ports)).toEqual({ viaHelper: [ports[0], ports[2]], viaMonitor: [ports[1]], viaSlirpApi: [] });
    expect(networkMode({ network: 'slirp4netns' }).planPorts(ports)).toEqual({
      viaHelper: [],
      viaMonitor: [ports[0], ports[1]],
      viaSlirpApi: [ports[2], ports[3]],
    });
    expect(networkMode({ network: 'app', namedNetwork: true }).planPorts(ports)).toEqual({ viaHelper: [], viaMonitor: [ports[0], ports[1]], viaSlirpApi: [] });
  });
});
