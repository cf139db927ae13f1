// Published ports: `-p [ip:][hostPort:]containerPort[/proto]` with ranges, `-p 80` (a free host port
// chosen now), `-P` (every EXPOSEd port), and the check that a host port is free before anything
// is created.
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { CliError } from '../errors.js';

export interface PortMapping {
  hostIp: string;
  hostPort: number;
  containerPort: number;
  protocol: 'tcp' | 'udp';
}

const range = (text: string, what: string): [number, number] => {
  const [a, b] = text.split('-', 2).map(Number);
  const end = b ?? a;
  if (!Number.isInteger(a) || !Number.isInteger(end) || a < 1 || end > 65535 || end < a)
    throw new CliError('EUSAGE', `invalid ${what} "${text}": use a port (1-65535) or a range such as 8000-8003`);
  return [a, end];
};

// Parses one -p value into mappings; host port 0 means "choose a free one".
export const parsePublish = (spec: string): PortMapping[] => {
  let rest = spec;
  let protocol: 'tcp' | 'udp' = 'tcp';
  const slash = rest.lastIndexOf('/');
  if (slash >= 0) {
    const proto = rest.slice(slash + 1);
    if (proto !== 'tcp' && proto !== 'udp') throw new CliError('EUSAGE', `invalid -p "${spec}": the protocol must be tcp or udp`);
    protocol = proto;
    rest = rest.slice(0, slash);
  }
  // [ip:]host:container, host:container, container; an IPv6 address comes in brackets.
  let hostIp = '0.0.0.0';
  const ip = /^(\[[0-9a-fA-F:.]+\]|\d+\.\d+\.\d+\.\d+):(.*)$/.exec(rest);
  if (ip) {
    hostIp = ip[1].replace(/^\[|\]$/g, '');
    rest = ip[2];
  }
  const parts = rest.split(':');
  if (parts.length > 2 || parts.some((p) => p === '' && parts.length === 1))
    throw new CliError('EUSAGE', `invalid -p "${spec}": use [IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL]`);
  const [container] = [range(parts[parts.length - 1], '-p container port')];
  const host = parts.length === 2 && parts[0] !== '' ? range(parts[0], '-p host port') : undefined;
  const count = container[1] - container[0] + 1;
  if (host && host[1] - host[0] + 1 !== count) throw new CliError('EUSAGE', `invalid -p "${spec}": the host and container ranges differ in length`);
  return Array.from({ length: count }, (_, i) => ({ hostIp, hostPort: host ? host[0] + i : 0, containerPort: container[0] + i, protocol }));
};

// -P: every port the image EXPOSEs, to free host ports.
export const exposedMappings = (exposed: Record<string, object> | undefined): PortMapping[] =>
  Object.keys(exposed ?? {}).flatMap((key) => parsePublish(key.includes('/') ? key : `${key}/tcp`));

const probe = (mapping: PortMapping, port: number): Promise<number> =>
  new Promise((resolve, reject) => {
    const fail = (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE'
          ? new CliError(
              'ESTATE',
              `port ${mapping.hostIp}:${port}/${mapping.protocol} is already in use on the host: publish on another host port (-p OTHER:${mapping.containerPort})`,
            )
          : new CliError('EUSAGE', `cannot publish on ${mapping.hostIp}:${port}/${mapping.protocol}: ${error.message}`),
      );
    if (mapping.protocol === 'udp') {
      const socket = createSocket(mapping.hostIp.includes(':') ? 'udp6' : 'udp4');
      socket.once('error', fail);
      socket.bind(port, mapping.hostIp, () => {
        const chosen = socket.address().port;
        socket.close(() => resolve(chosen));
      });
      return;
    }
    const server = createServer();
    server.once('error', fail);
    server.listen({ port, host: mapping.hostIp, exclusive: true }, () => {
      const chosen = (server.address() as { port: number }).port;
      server.close(() => resolve(chosen));
    });
  });

// Checks every host port is free now, and fills in free ports where none was given.
export const reservePorts = async (mappings: PortMapping[]): Promise<PortMapping[]> => {
  const seen = new Set<string>();
  const out: PortMapping[] = [];
  for (const m of mappings) {
    const hostPort = await probe(m, m.hostPort);
    const key = `${m.hostIp}:${hostPort}/${m.protocol}`;
    if (seen.has(key)) throw new CliError('EUSAGE', `host port ${key} is published twice`);
    seen.add(key);
    out.push({ ...m, hostPort });
  }
  return out;
};

export const formatMapping = (m: PortMapping): string => `${m.hostIp}:${m.hostPort}->${m.containerPort}/${m.protocol}`;
