// Healthchecks (--health-*, or the image's HEALTHCHECK): the config the flags make, the record of
// results `healthcheck run` keeps (Docker's State.Health), and what ps and inspect show of it.
// The monitor keeps the time (native/monitor/health.c runs `healthcheck run` every interval), so
// no systemd timer and no daemon is needed; the check itself is ContainersEngine.healthcheck.
import { join } from 'node:path';
import { parseDuration } from '../build/values.js';
import { CliError } from '../errors.js';
import type { ImageConfig } from '../image-format.js';
import type { ContainerRecord, ContainerState, ContainerStore, HealthcheckConfig } from '../state/containers.js';
import { readJsonIfExists, writeJsonAtomic } from '../util/fs.js';
import { withLock } from '../util/lock.js';
import type { CapturedExec } from './container-exec.js';

export interface HealthFlags {
  healthCmd?: string;
  healthInterval?: string;
  healthRetries?: string;
  healthStartPeriod?: string;
  healthTimeout?: string;
  healthOnFailure?: string;
  /** false: --no-healthcheck. */
  healthcheck?: boolean;
}

export type HealthStatus = 'starting' | 'healthy' | 'unhealthy';

export interface HealthLogEntry {
  Start: string;
  End: string;
  ExitCode: number;
  Output: string;
}

// Docker's State.Health.
export interface HealthState {
  Status: HealthStatus;
  FailingStreak: number;
  Log: HealthLogEntry[];
}

const ON_FAILURE = ['none', 'kill', 'restart', 'stop'] as const;
const DEFAULT = { intervalMs: 30_000, timeoutMs: 30_000, startPeriodMs: 0, retries: 3 };
/** Results kept in the log, and the output kept of each (Docker's numbers). */
const LOG_ENTRIES = 5;
export const OUTPUT_KEPT = 4096;

const usage = (message: string): CliError => new CliError('EUSAGE', message);

// A --health-* duration ("30s", "1m30s") in milliseconds, at least `leastMs`.
const duration = (flag: string, text: string, leastMs: number): number => {
  let ms: number;
  try {
    ms = parseDuration(text) / 1e6;
  } catch {
    throw usage(`invalid --${flag} "${text}": use a duration such as 30s, 1m or 1m30s`);
  }
  if (ms < leastMs) throw usage(`--${flag} must be at least ${leastMs / 1000}s (got ${text})`);
  return ms;
};

// --health-cmd: a JSON array (CMD, CMD-SHELL or NONE first, else CMD is meant) or a shell command.
const parseTest = (cmd: string): string[] | undefined => {
  if (cmd === 'none' || cmd === 'NONE') return undefined;
  if (cmd.trimStart().startsWith('[')) {
    let words: unknown;
    try {
      words = JSON.parse(cmd);
    } catch {
      throw usage(`invalid --health-cmd ${JSON.stringify(cmd)}: not a JSON array (or give a shell command without the brackets)`);
    }
    if (!Array.isArray(words) || !words.length || !words.every((w) => typeof w === 'string'))
      throw usage(`invalid --health-cmd ${JSON.stringify(cmd)}: the array must hold strings`);
    if (words[0] === 'NONE') return undefined;
    const test = words[0] === 'CMD' || words[0] === 'CMD-SHELL' ? words : ['CMD', ...words];
    if (test.length < 2) throw usage(`invalid --health-cmd ${JSON.stringify(cmd)}: no command after ${test[0]}`);
    return test;
  }
  if (!cmd.trim()) throw usage('--health-cmd is empty: give a command, or none to turn the check off');
  return ['CMD-SHELL', cmd];
};

// The container's healthcheck from the flags over the image's HEALTHCHECK (whose durations are
// nanoseconds, 0 meaning the default); undefined when there is none or it is turned off.
export const healthcheckConfig = (flags: HealthFlags, image: ImageConfig['config']): HealthcheckConfig | undefined => {
  const given = (['healthCmd', 'healthInterval', 'healthRetries', 'healthStartPeriod', 'healthTimeout', 'healthOnFailure'] as const).filter(
    (k) => flags[k] !== undefined,
  );
  const flagName = (k: string) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
  if (flags.healthcheck === false) {
    if (given.length) throw usage(`--no-healthcheck conflicts with ${flagName(given[0])}: use one or the other`);
    return undefined;
  }
  const fromImage = image?.Healthcheck;
  const imageTest = fromImage?.Test?.length && fromImage.Test[0] !== 'NONE' ? fromImage.Test : undefined;
  const test = flags.healthCmd !== undefined ? parseTest(flags.healthCmd) : imageTest;
  if (!test) {
    const other = given.find((k) => k !== 'healthCmd');
    if (other && flags.healthCmd === undefined) throw usage(`${flagName(other)} needs a check to apply to: give --health-cmd (the image has no HEALTHCHECK)`);
    return undefined;
  }
  const ns = (v: number | undefined, fallback: number) => (v ? v / 1e6 : fallback);
  const intervalMs =
    flags.healthInterval === undefined
      ? ns(fromImage?.Interval, DEFAULT.intervalMs)
      : flags.healthInterval === 'disable' || flags.healthInterval === '0'
        ? 0
        : duration('health-interval', flags.healthInterval, 1000);
  const timeoutMs = flags.healthTimeout === undefined ? ns(fromImage?.Timeout, DEFAULT.timeoutMs) : duration('health-timeout', flags.healthTimeout, 1000);
  const startPeriodMs =
    flags.healthStartPeriod === undefined ? ns(fromImage?.StartPeriod, DEFAULT.startPeriodMs) : duration('health-start-period', flags.healthStartPeriod, 0);
  let retries = fromImage?.Retries || DEFAULT.retries;
  if (flags.healthRetries !== undefined) {
    retries = Number(flags.healthRetries);
    if (!/^\d+$/.test(flags.healthRetries) || retries < 1) throw usage(`invalid --health-retries "${flags.healthRetries}": use a whole number above 0`);
  }
  const onFailure = (flags.healthOnFailure ?? 'none') as HealthcheckConfig['onFailure'];
  if (!ON_FAILURE.includes(onFailure)) throw usage(`invalid --health-on-failure "${flags.healthOnFailure}": use ${ON_FAILURE.join(', ')}`);
  return { test, intervalMs, timeoutMs, startPeriodMs, retries, onFailure };
};

// The command a check runs: CMD's words, or CMD-SHELL's text through /bin/sh -c.
export const healthArgv = (check: HealthcheckConfig): string[] => (check.test[0] === 'CMD-SHELL' ? ['/bin/sh', '-c', check.test[1]] : check.test.slice(1));

const healthFile = (store: ContainerStore, id: string): string => join(store.runtimeDir(id), 'health.json');

// The container's health while it runs (a new run starts again from "starting": its runtime dir is
// new); undefined without a healthcheck or when it does not run.
export const healthOf = (store: ContainerStore, record: ContainerRecord, state: ContainerState): HealthState | undefined => {
  if (!record.config.healthcheck || (state.status !== 'running' && state.status !== 'stopping')) return undefined;
  try {
    return readJsonIfExists<HealthState>(healthFile(store, record.id)) ?? { Status: 'starting', FailingStreak: 0, Log: [] };
  } catch {
    return { Status: 'starting', FailingStreak: 0, Log: [] };
  }
};

// Adds one result to the record (under its own lock: the monitor's check and a `healthcheck run`
// may finish together) and returns the health it makes. A failure inside the start period does
// not count, as Docker has it; `retries` failures in a row make the container unhealthy. A check
// of a run that has ended meanwhile (`state` is what it was when the check began) records
// nothing and returns undefined: it must not count against the next run.
export const recordHealth = (
  store: ContainerStore,
  record: ContainerRecord,
  state: ContainerState,
  check: HealthcheckConfig,
  result: CapturedExec,
  start: Date,
): Promise<HealthState | undefined> =>
  withLock(join(store.runtimeDir(record.id), 'health.lock'), async () => {
    const now = store.effectiveState(record.id);
    if (now.status !== 'running' || now.startedAt !== state.startedAt || now.pid !== state.pid) return undefined;
    const before = healthOf(store, record, state) ?? { Status: 'starting', FailingStreak: 0, Log: [] };
    const end = new Date();
    const passed = result.code === 0 && !result.timedOut;
    const output = result.timedOut ? `${result.output}healthcheck command exceeded its timeout of ${check.timeoutMs / 1000}s` : result.output;
    const entry: HealthLogEntry = { Start: start.toISOString(), End: end.toISOString(), ExitCode: result.timedOut ? -1 : result.code, Output: output };
    const starting = before.Status === 'starting' && end.getTime() - Date.parse(state.startedAt ?? record.created) < check.startPeriodMs;
    const streak = passed ? 0 : starting ? before.FailingStreak : before.FailingStreak + 1;
    const status: HealthStatus = passed ? 'healthy' : streak >= check.retries ? 'unhealthy' : before.Status;
    const health: HealthState = { Status: status, FailingStreak: streak, Log: [...before.Log, entry].slice(-LOG_ENTRIES) };
    writeJsonAtomic(healthFile(store, record.id), health, 0o644, false);
    return health;
  });
