// Times the user writes (--since, --until): a timestamp, a unix time, or a duration before now.
import { CliError } from '../errors.js';

// "2026-01-02T03:04:05Z", a unix time, or a duration before now ("10m", "1h30m", "45s"): milliseconds.
export const parseTime = (value: string, flag: string, now = Date.now()): number => {
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000;
  const duration = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s)?$/.exec(value);
  if (duration && value) return now - ((Number(duration[1] ?? 0) * 60 + Number(duration[2] ?? 0)) * 60 + Number(duration[3] ?? 0)) * 1000;
  const parsed = Date.parse(value);
  if (Number.isNaN(parsed)) throw new CliError('EUSAGE', `invalid ${flag} "${value}": use a timestamp (2026-01-02T15:04:05Z), a unix time or a duration (10m)`);
  return parsed;
};
