// HEALTHCHECK's arguments as Docker stores them in the image config: NONE, or a test (["CMD", ...] exec form,
// ["CMD-SHELL", text] shell form) with durations in nanoseconds. Nothing in HEALTHCHECK is expanded.
import { CliError } from '../errors.js';
import type { Instruction } from './dockerfile.js';
import { parseJsonArray, trimSpace } from './dockerfile-syntax.js';
import { readFlag } from './instruction-args.js';
import { parseDuration } from './values.js';

// HEALTHCHECK CMD: the image config's Healthcheck, durations in nanoseconds (unset when not given).
export interface HealthcheckCommand {
  kind: 'healthcheck';
  /** ["CMD", ...argv] or ["CMD-SHELL", text]. */
  test: string[];
  interval?: number;
  timeout?: number;
  startPeriod?: number;
  startInterval?: number;
  retries?: number;
}

// HEALTHCHECK NONE (turn the base image's check off) or CMD.
export type HealthcheckStep = { kind: 'healthcheck'; none: true } | HealthcheckCommand;

const usage = (message: string): CliError => new CliError('EUSAGE', message);

// A duration flag: absent or empty is unset, 0 is "the default", anything else must be at least 1ms.
const readInterval = (ins: Instruction, name: string): number | undefined => {
  const value = readFlag(ins, name);
  if (value === undefined || value === '') return undefined;
  const ns = parseDuration(value);
  if (ns !== 0 && ns < 1e6) throw usage(`Interval ${JSON.stringify(name)} cannot be less than 1ms`);
  return ns;
};

// Parses HEALTHCHECK NONE | HEALTHCHECK [--interval=... --retries=N ...] CMD command-or-JSON-array.
export const parseHealthcheck = (ins: Instruction): HealthcheckStep => {
  const rest = ins.args[0] ?? '';
  if (rest === '') throw usage('HEALTHCHECK requires at least one argument');
  const gap = /\s/.exec(rest);
  const type = (gap ? rest.slice(0, gap.index) : rest).toUpperCase();
  const command = gap ? trimSpace(rest.slice(gap.index)) : '';
  const array = parseJsonArray(command);
  if (type === 'NONE') {
    if (command !== '') throw usage('HEALTHCHECK NONE takes no arguments');
    return { kind: 'healthcheck', none: true };
  }
  if (type !== 'CMD') throw usage(`Unknown type ${JSON.stringify(type)} in HEALTHCHECK (try CMD)`);
  const test = array ? ['CMD', ...array] : ['CMD-SHELL', command];
  if (array ? array.length === 0 : command === '') throw usage('Missing command after HEALTHCHECK CMD');
  const step: HealthcheckCommand = { kind: 'healthcheck', test };
  const durations = { interval: 'interval', timeout: 'timeout', startPeriod: 'start-period', startInterval: 'start-interval' } as const;
  for (const [field, flag] of Object.entries(durations)) {
    const ns = readInterval(ins, flag);
    if (ns !== undefined) step[field as keyof typeof durations] = ns;
  }
  const retries = readFlag(ins, 'retries');
  if (retries !== undefined && retries !== '') {
    if (!/^[-+]?\d+$/.test(retries) || Math.abs(Number(retries)) > 2 ** 31 - 1) throw usage(`invalid value for --retries: ${JSON.stringify(retries)}`);
    if (Number(retries) < 0) throw usage(`--retries cannot be negative (${Number(retries)})`);
    step.retries = Number(retries);
  }
  return step;
};
