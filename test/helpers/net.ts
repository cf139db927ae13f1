// Talking to published ports from the host: loopback only.
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
