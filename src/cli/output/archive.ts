// A tar archive to -o FILE or to standard output (never to a terminal): export, volume export.
import { CliError } from '../../errors.js';

// Fails before anything is done when the archive would go to a terminal.
export const checkArchiveOutput = (output: string | undefined): void => {
  if (!output && process.stdout.isTTY) throw new CliError('EUSAGE', 'refusing to write a tar archive to a terminal: use -o FILE or redirect standard output');
};

// Runs `write` on the file's stream (or standard output) and waits until a file is all written.
export const writeArchive = async (output: string | undefined, write: (out: NodeJS.WritableStream) => Promise<void>): Promise<void> => {
  const { createWriteStream } = await import('node:fs');
  const out = output ? createWriteStream(output) : process.stdout;
  await write(out);
  if (output) await (await import('node:stream/promises')).finished(out);
};
