// slirp4netns: userspace networking for a container's own network namespace. The monitor starts it
// (exit fd: it ends with the container or the monitor); the CLI adds the published ports through
// its API socket before the container starts. Addresses inside: 10.0.2.100/24, gateway 10.0.2.2
// (the host, but not its loopback), DNS 10.0.2.3 (forwards to the host's resolvers).
import { CliError } from '../errors.js';
import type { PortMapping } from './ports.js';

export const SLIRP_GUEST = '10.0.2.100';
export const SLIRP_DNS = '10.0.2.3';
export const SLIRP_GATEWAY = '10.0.2.2';

export const slirpHelperArgs = (apiSocket: string): string[] => [
  '--configure',
  '--mtu=65520',
  '--disable-host-loopback',
  '--enable-sandbox',
  '--enable-seccomp',
  '--exit-fd=3',
  '--ready-fd=4',
  `--api-socket=${apiSocket}`,
  '{pid}',
  'tap0',
];

const call = async (apiSocket: string, request: unknown): Promise<{ return?: unknown; error?: { desc?: string } }> => {
  // node:net loads only for containers that publish through slirp4netns.
  const { connect } = await import('node:net');
  return new Promise((resolve, reject) => {
    const socket = connect(apiSocket);
    let text = '';
    socket.on('connect', () => socket.end(JSON.stringify(request)));
    socket.on('data', (d) => (text += d));
    socket.on('error', reject);
    socket.on('close', () => {
      try {
        resolve(JSON.parse(text));
      } catch {
        reject(new CliError('EHELPER', `slirp4netns answered ${JSON.stringify(text)} to a port forwarding request`));
      }
    });
  });
};

// Forwards each published port from the host into the container.
export const publishPorts = async (apiSocket: string, mappings: PortMapping[]): Promise<void> => {
  for (const m of mappings) {
    const answer = await call(apiSocket, {
      execute: 'add_hostfwd',
      arguments: { proto: m.protocol, host_addr: m.hostIp, host_port: m.hostPort, guest_addr: SLIRP_GUEST, guest_port: m.containerPort },
    }).catch((error: Error) => ({ error: { desc: error.message } }));
    if (answer.error) throw new CliError('ESTATE', `cannot publish ${m.hostIp}:${m.hostPort}/${m.protocol}: ${answer.error.desc ?? 'slirp4netns refused'}`);
  }
};
