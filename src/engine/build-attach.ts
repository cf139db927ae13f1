// build --stdin: a RUN step started attached to its container, standard input passed in. Its input
// ends where the stream does (a stream an earlier step read to its end: at once); what it writes
// comes back as text. The step's exit code, after the clean-up the monitor would do.
import type { Socket } from 'node:net';
import type { ContainersEngine } from './containers.js';

export const runAttached = async (
  containers: ContainersEngine,
  id: string,
  stdin: NodeJS.ReadableStream,
  onOutput: (text: string) => void,
): Promise<number> => {
  const { runAttach } = await import('../monitor/attach.js');
  const { Readable, Writable } = await import('node:stream');
  const { StringDecoder } = await import('node:string_decoder');
  let socket: Socket | undefined;
  await containers.start(id, { attach: (connected) => (socket = connected) });
  const decoder = new StringDecoder('utf8');
  const output = new Writable({
    write: (chunk: Buffer, _encoding, done) => {
      const text = decoder.write(chunk);
      if (text) onOutput(text);
      done();
    },
  });
  const input = (stdin as NodeJS.ReadableStream & { readableEnded?: boolean }).readableEnded ? Readable.from([]) : stdin;
  const result = await runAttach(socket!, { stdin: input, stdout: output, stderr: output, detachKeys: [] });
  stdin.pause(); // (what the next step does not read stays in the stream)
  if (result.exitCode === undefined) {
    result.hangUp(false);
    return containers.wait(id, ['stopped'], 10);
  }
  let cleaned = false;
  try {
    await containers.cleanup(id);
    cleaned = true;
  } finally {
    result.hangUp(cleaned);
  }
  return result.exitCode;
};
