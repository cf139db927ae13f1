// The logger: the only writer to stderr besides the top-level error handler. Debug lines go out only
// at --log-level=debug (or SKIFF_LOG_LEVEL=debug), so helpers can log argv and timings freely.

import { writeAllSync } from './fs.js';

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

const order: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };
let current: LogLevel = (process.env.SKIFF_LOG_LEVEL as LogLevel) in order ? (process.env.SKIFF_LOG_LEVEL as LogLevel) : 'warn';

export const setLogLevel = (level: LogLevel): void => {
  current = level;
};

export const isDebug = (): boolean => current === 'debug';

const emit = (level: LogLevel, message: string): void => {
  if (order[level] > order[current]) return;
  // Debug lines carry the time since the process started, for finding where time goes.
  const stamp = level === 'debug' ? `+${performance.now().toFixed(1)}ms ` : '';
  const line = `${level === 'info' ? '' : `${level.toUpperCase()}: `}${stamp}${message}\n`;
  // Straight to fd 2: process.stderr's first use builds a stream (~2 ms of modules), which would
  // also make the debug timings lie.
  writeAllSync(2, line, (_error, rest) => process.stderr.write(rest));
};

export const log = {
  error: (message: string) => emit('error', message),
  warn: (message: string) => emit('warn', message),
  info: (message: string) => emit('info', message),
  debug: (message: string) => emit('debug', message),
};
