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

describe('--network MODE:OPTIONS', () => {
  it("parses Podman's forms: private is the default, ns:PATH, slirp4netns:…, pasta:…", async () => {
    const { parseNetworkSpec } = await import('../../../src/network/modes.js');
    expect(parseNetworkSpec('private', 'pasta')).toEqual({ network: 'pasta' });
    expect(parseNetworkSpec('ns:/run/netns/x', 'pasta')).toEqual({ network: 'ns:/run/netns/x' });
    expect(parseNetworkSpec('slirp4netns:cidr=10.0.3.0/24,mtu=1500', 'pasta')).toEqual({
      network: 'slirp4netns',
      networkOptions: ['cidr=10.0.3.0/24', 'mtu=1500'],
    });
    expect(parseNetworkSpec('pasta:-a,10.0.0.5', 'pasta')).toEqual({ network: 'pasta', networkOptions: ['-a', '10.0.0.5'] });
    expect(parseNetworkSpec('container:db', 'pasta')).toEqual({ network: 'container:db' });
    expect(() => parseNetworkSpec('ns:x', 'pasta')).toThrow(/use ns:PATH/);
    expect(() => parseNetworkSpec('pasta:-T,auto', 'pasta')).toThrow(/pasta's -T is skiff's to set/);
    expect(() => parseNetworkSpec('pasta:-ft', 'pasta')).toThrow(/pasta's -f is skiff's to set/);
  });

  it('slirp4netns options change its arguments, addresses and name server', () => {
    const mode = networkMode({ network: 'slirp4netns', networkOptions: ['cidr=10.1.2.0/24', 'allow_host_loopback=true', 'enable_ipv6=true', 'mtu=9000'] });
    const args = mode.helperArgs(paths, []);
    expect(args).toEqual(expect.arrayContaining(['--cidr=10.1.2.0/24', '--enable-ipv6', '--mtu=9000']));
    expect(args).not.toContain('--disable-host-loopback');
    expect(networkMode({ network: 'slirp4netns' }).helperArgs(paths, [])).toContain('--disable-host-loopback');
    expect(mode.addresses()).toEqual({ ip: '10.1.2.100', gateway: '10.1.2.2' });
    expect(mode.nameserver()).toBe('10.1.2.3');
    expect(mode.hostAddress(false)).toBe('10.1.2.2');
    const ports = [port('tcp'), port('udp', '::')];
    expect(networkMode({ network: 'slirp4netns', networkOptions: ['port_handler=slirp4netns'] }).planPorts(ports)).toEqual({
      viaHelper: [],
      viaMonitor: [],
      viaSlirpApi: ports,
    });
    expect(() => networkMode({ network: 'slirp4netns', networkOptions: ['cidr=10.1.2.0/28'] })).toThrow(/at most \/25/);
  });

  it('pasta options go before the namespace; -a/-g are the addresses inspect shows', () => {
    const mode = networkMode({ network: 'pasta', networkOptions: ['-a', '10.9.0.5', '--gateway=10.9.0.1', '--mtu', '1400'] });
    const args = mode.helperArgs(paths, []);
    expect(args.slice(-4)).toEqual(['--mtu', '1400', '--netns', '{netns}']);
    expect(mode.addresses()).toEqual({ ip: '10.9.0.5', gateway: '10.9.0.1' });
    expect(networkMode({ network: 'ns:/run/netns/x' }).namespace(paths, shared)).toEqual({ path: '/run/netns/x' });
  });
});
