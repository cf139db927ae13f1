// A yes/no question before a command that deletes what the user may want.
import { CliError } from '../errors.js';

// Podman asks first; skiff asks on a terminal and, with no one to ask, wants --force.
export const confirm = async (question: string, force: boolean | undefined): Promise<boolean> => {
  if (force) return true;
  if (!process.stdin.isTTY) throw new CliError('EUSAGE', 'no terminal to confirm on: add --force');
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const answer = await rl.question(`${question} [y/N] `);
  rl.close();
  return /^y(es)?$/i.test(answer.trim());
};
