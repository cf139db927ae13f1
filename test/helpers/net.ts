// Talking to published ports from the host: loopback only.
import { execFileSync } from 'node:child_process';
import { connect } from 'node:net';

// What a TCP server on 127.0.0.1:port sends (after `request`, when given), retrying while the
// container starts listening; '' when nothing answers within `attempts` tries.
export const fetchTcp = async (port: number, attempts = 50, request?: string): Promise<string> => {
  for (let i = 0; ; i++) {
    const text = await new Promise<string>((resolve) => {
      let data = '';
      const socket = connect(port, '127.0.0.1', () => request !== undefined && socket.write(request));
      socket.on('data', (d) => (data += d));
      socket.on('error', () => resolve(''));
      socket.on('close', () => resolve(data));
      socket.setTimeout(2000, () => socket.destroy());
    });
    if (text || i >= attempts) return text;
    await new Promise((r) => setTimeout(r, 100));
  }
};

// A "remote client" for a published port, root only: two network namespaces of the test's own
// joined by a veth pair, 10.231.OCTET.1 (`host`: run skiff there with the sandbox's `netns` option)
// and 10.231.OCTET.2 (`client`). `ask` connects from a namespace to ADDRESS:PORT with busybox nc
// and returns what came back once it holds `expected` ('' after ~5 s). Remove them with `remove`.
export interface RemoteClient {
  host: string;
  client: string;
  ip(...args: string[]): Buffer;
  ask(ns: string, address: string, port: number, expected?: RegExp): string;
  remove(): void;
}

export const remoteClient = (tag: string, octet: number): RemoteClient => {
  const host = `skiff-${tag}h${process.pid}`;
  const client = `skiff-${tag}c${process.pid}`;
  const ip = (...args: string[]) => execFileSync('ip', args);
  ip('netns', 'add', host);
  ip('netns', 'add', client);
  const remove = () => {
    for (const ns of [client, host]) {
      try {
        ip('netns', 'del', ns);
      } catch {
        // gone
      }
    }
  };
  try {
    ip('link', 'add', `sk-${tag}h`, 'netns', host, 'type', 'veth', 'peer', 'name', `sk-${tag}c`, 'netns', client);
    for (const [ns, dev, addr] of [
      [host, `sk-${tag}h`, `10.231.${octet}.1/24`],
      [client, `sk-${tag}c`, `10.231.${octet}.2/24`],
    ]) {
      ip('-n', ns, 'link', 'set', 'lo', 'up');
      ip('-n', ns, 'link', 'set', dev, 'up');
      ip('-n', ns, 'addr', 'add', addr, 'dev', dev);
    }
  } catch (error) {
    remove();
    throw error;
  }
  const ask = (ns: string, address: string, port: number, expected = /:80\s/): string => {
    for (let i = 0; i < 50; i++) {
      const out = execFileSync('ip', ['netns', 'exec', ns, 'busybox', 'nc', '-w', '3', address, String(port)], { input: '' }).toString();
      if (expected.test(out)) return out;
      execFileSync('sleep', ['0.1']);
    }
    return '';
  };
  return { host, client, ip, ask, remove };
};
