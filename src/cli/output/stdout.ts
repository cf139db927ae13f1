// skiff's standard output. Lines, tables and JSON go straight to fd 1: Node makes process.stdout,
// and loads its stream modules for it, on first use (~1 ms of every short command). A command that
// streams (export, logs -f, events) uses process.stdout, and from then on every write goes through
// that stream, in order. Either way a reader that stops early (`skiff ps | head`) ends the output
// quietly, with the command's own exit code.
import { writeAllSync } from '../../util/fs.js';

let streaming = false;
let silent = false;

// --noout: nothing on standard output, a container's attached output included (errors still go
// to standard error).
export const silenceStdout = (): void => {
  silent = true;
  process.stdout.write = (() => true) as typeof process.stdout.write;
};

const readerGone = (): never => process.exit(process.exitCode ?? 0);

// Attaches the early-reader rule to process.stdout when something first makes it.
export const watchStdout = (): void => {
  const made = Object.getOwnPropertyDescriptor(process, 'stdout');
  if (!made?.get || !made.configurable) return;
  let stream: NodeJS.WriteStream | undefined;
  Object.defineProperty(process, 'stdout', {
    configurable: true,
    enumerable: made.enumerable,
    get() {
      if (!stream) {
        stream = made.get!.call(process) as NodeJS.WriteStream;
        streaming = true;
        stream.on('error', (error: NodeJS.ErrnoException) => {
          if (error.code === 'EPIPE') readerGone();
          throw error;
        });
      }
      return stream;
    },
  });
};

export const writeOut = (text: string): void => {
  if (silent) return;
  if (streaming) {
    process.stdout.write(text);
    return;
  }
  writeAllSync(1, text, (error, rest) => {
    if (error.code === 'EPIPE') readerGone();
    // A non-blocking stdout that is full waits in Node's stream; a closed one is Node's to handle.
    if (error.code !== 'EAGAIN' && error.code !== 'EBADF') throw error;
    process.stdout.write(rest);
  });
};
