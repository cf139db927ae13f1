// The client side of the monitor's attach socket (native/monitor/PROTOCOL.md): frames of
// [type u8][length u32 BE][payload] both ways.
import { connect, type Socket } from 'node:net';
import { CliError } from '../errors.js';

export const FRAME = { stdin: 0, stdout: 1, stderr: 2, exit: 3, closeStdin: 4, resize: 5, cleaned: 6, delete: 7, started: 8 } as const;

export const encodeFrame = (type: number, payload: Buffer | string): Buffer => {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const head = Buffer.alloc(5);
  head[0] = type;
  head.writeUInt32BE(body.length, 1);
  return Buffer.concat([head, body]);
};

// Splits a byte stream into frames, keeping a partial frame for the next chunk.
export class FrameDecoder {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): { type: number; payload: Buffer }[] {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const frames: { type: number; payload: Buffer }[] = [];
    while (this.pending.length >= 5) {
      const length = this.pending.readUInt32BE(1);
      if (this.pending.length < 5 + length) break;
      frames.push({ type: this.pending[0], payload: this.pending.subarray(5, 5 + length) });
      this.pending = this.pending.subarray(5 + length);
    }
    return frames;
  }
}

export const connectAttach = (socketPath: string): Promise<Socket> =>
  new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    socket.once('connect', () => resolve(socket));
    socket.once('error', (error) => reject(new CliError('ESTATE', `cannot attach to the container: ${error.message}`, { cause: error })));
  });

// "ctrl-p,ctrl-q" → the bytes to watch for on stdin; "" turns detaching off.
export const parseDetachKeys = (spec: string): number[] => {
  if (spec === '') return [];
  return spec.split(',').map((key) => {
    const k = key.trim().toLowerCase();
    const ctrl = /^ctrl-([a-z@[\\\]^_])$/.exec(k);
    if (ctrl) return ctrl[1] === '@' ? 0 : ctrl[1].charCodeAt(0) & 0x1f;
    if (k.length === 1) return k.charCodeAt(0);
    throw new CliError('EUSAGE', `invalid detach key "${key}": use a character or ctrl-<value>, e.g. "ctrl-p,ctrl-q"`);
  });
};

export interface AttachStreams {
  stdin?: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  detachKeys: number[];
  /** The terminal size to pass on now and on every change (with -t). */
  size?: () => { rows: number; columns: number } | undefined;
  onResize?: (listener: () => void) => () => void;
}

export interface AttachResult {
  /** The container's exit code, when it exited while attached. */
  exitCode?: number;
  detached: boolean;
  /** Leaves the runtime's delete to the monitor (before the clean-up of a container it removes). */
  leaveDelete(): void;
  /** Hangs up; `cleaned` tells the monitor the exit command's work is done (it then skips it). */
  hangUp(cleaned: boolean): void;
}

// Copies the container's output to the streams and stdin to the container until the container
// exits (exit frame), the user detaches (detach keys), or the monitor goes away.
export const runAttach = (socket: Socket, streams: AttachStreams): Promise<AttachResult> =>
  new Promise((resolve) => {
    const decoder = new FrameDecoder();
    let exitCode: number | undefined;
    let detached = false;
    let matched = 0;
    const sendSize = () => {
      const size = streams.size?.();
      if (size) socket.write(encodeFrame(FRAME.resize, `${size.rows} ${size.columns}`));
    };
    const stopResize = streams.onResize?.(sendSize);
    sendSize();
    const onInput = (chunk: Buffer) => {
      const keys = streams.detachKeys;
      if (keys.length) {
        for (const [i, byte] of chunk.entries()) {
          matched = byte === keys[matched] ? matched + 1 : byte === keys[0] ? 1 : 0;
          if (matched === keys.length) {
            // What was typed before the keys in this same read still goes to the container.
            const before = chunk.subarray(0, Math.max(0, i + 1 - keys.length));
            detached = true;
            if (before.length) socket.write(encodeFrame(FRAME.stdin, before));
            socket.end();
            return;
          }
        }
      }
      socket.write(encodeFrame(FRAME.stdin, chunk));
    };
    const onEnd = () => {
      if (!socket.destroyed) socket.write(encodeFrame(FRAME.closeStdin, ''));
    };
    streams.stdin?.on('data', onInput);
    streams.stdin?.on('end', onEnd);
    let done = false;
    const leaveDelete = () => {
      if (!socket.destroyed) socket.write(encodeFrame(FRAME.delete, ''));
    };
    const hangUp = (cleaned: boolean) => {
      if (cleaned && !socket.destroyed) socket.end(encodeFrame(FRAME.cleaned, ''));
      else socket.destroy();
    };
    const finish = () => {
      if (done) return;
      done = true;
      stopResize?.();
      streams.stdin?.off('data', onInput);
      streams.stdin?.off('end', onEnd);
      resolve({ exitCode, detached, leaveDelete, hangUp });
    };
    socket.on('data', (chunk: Buffer) => {
      for (const frame of decoder.push(chunk)) {
        if (frame.type === FRAME.stdout) streams.stdout.write(frame.payload);
        else if (frame.type === FRAME.stderr) streams.stderr.write(frame.payload);
        else if (frame.type === FRAME.exit) {
          exitCode = Number(frame.payload.toString());
          finish();
        }
      }
    });
    socket.on('close', finish);
    socket.on('error', () => socket.destroy());
  });

export interface EndWatch {
  /** Resolves once the monitor has written the exit file (its exit frame) or has gone. */
  exited: Promise<void>;
  /** Leaves the runtime's delete of a container being removed to the monitor (run after the hang-up). */
  leaveDelete(): void;
  /** Hangs up; `cleaned`: the exit command's work is done, the monitor skips it. */
  hangUp(cleaned: boolean): void;
}

// A connection to a running container's monitor made before its end is asked for (stop, rm -f):
// the exit frame ends the wait, and the asker, which cleans up anyway, says so, so that no `skiff
// container cleanup` starts for each container (PROTOCOL.md, types 3, 6 and 7). The container's
// output meanwhile is read and dropped. Undefined when nothing listens (the exit command then runs).
export const watchEnd = async (socketPath: string): Promise<EndWatch | undefined> => {
  const socket = await connectAttach(socketPath).catch(() => undefined);
  if (!socket) return undefined;
  const decoder = new FrameDecoder();
  const exited = new Promise<void>((resolve) => {
    socket.on('data', (chunk: Buffer) => {
      if (decoder.push(chunk).some((frame) => frame.type === FRAME.exit)) resolve();
    });
    socket.on('close', () => resolve());
    socket.on('error', () => socket.destroy());
  });
  return {
    exited,
    leaveDelete: () => {
      if (!socket.destroyed) socket.write(encodeFrame(FRAME.delete, ''));
    },
    hangUp: (cleaned) => {
      if (cleaned && !socket.destroyed) socket.end(encodeFrame(FRAME.cleaned, ''));
      else socket.destroy();
    },
  };
};
