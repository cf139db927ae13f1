// Human units as Podman prints them: "4.26 MB", "3 days ago".

// Decimal sizes with three significant digits (docker/go-units HumanSize).
export const humanSize = (bytes: number): string => {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let value = bytes;
  let i = 0;
  while (value >= 1000 && i < units.length - 1) {
    value /= 1000;
    i++;
  }
  return `${Number(value.toPrecision(3))} ${units[i]}`;
};

// "About a minute ago", "3 days ago", "2 years ago" (go-units HumanDuration + " ago").
export const timeAgo = (iso: string, now = Date.now()): string => `${humanDuration(iso, now)} ago`;

// "Less than a second", "5 seconds", "About an hour" (go-units HumanDuration), since `iso`.
export const humanDuration = (iso: string, now = Date.now()): string => {
  const seconds = Math.max(0, (now - Date.parse(iso)) / 1000);
  const minutes = seconds / 60;
  const hours = minutes / 60;
  const days = hours / 24;
  let text: string;
  if (seconds < 1) text = 'Less than a second';
  else if (seconds < 2) text = '1 second';
  else if (seconds < 60) text = `${Math.floor(seconds)} seconds`;
  else if (minutes < 2) text = 'About a minute';
  else if (minutes < 60) text = `${Math.floor(minutes)} minutes`;
  else if (hours < 2) text = 'About an hour';
  else if (hours < 48) text = `${Math.floor(hours)} hours`;
  else if (days < 14) text = `${Math.floor(days)} days`;
  else if (days < 60) text = `${Math.floor(days / 7)} weeks`;
  else if (days < 730) text = `${Math.floor(days / 30)} months`;
  else text = `${Math.floor(days / 365)} years`;
  return text;
};

export const shortId = (id: string): string => id.replace(/^sha256:/, '').slice(0, 12);

// A time as Go's time.Time prints it ("2006-01-02 15:04:05.999999999 -0700 MST"): the local zone,
// the fraction without trailing zeros; `fraction: false` drops it (Podman's history CreatedAt).
export const goTime = (iso: string, options: { fraction?: boolean } = {}): string => {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return iso;
  const date = new Date(ms);
  const offset = -date.getTimezoneOffset();
  const local = new Date(ms + offset * 60_000).toISOString();
  // Nanoseconds where the text has them (Date keeps milliseconds only).
  const digits = /\.(\d+)/.exec(iso)?.[1] ?? local.slice(20, 23);
  const fraction = options.fraction === false ? '' : digits.replace(/0+$/, '');
  const sign = offset < 0 ? '-' : '+';
  const hhmm = `${String(Math.floor(Math.abs(offset) / 60)).padStart(2, '0')}${String(Math.abs(offset) % 60).padStart(2, '0')}`;
  return `${local.slice(0, 10)} ${local.slice(11, 19)}${fraction ? `.${fraction}` : ''} ${sign}${hhmm} ${zoneName(date, `${sign}${hhmm.slice(0, 2)}${hhmm.endsWith('00') ? '' : hhmm.slice(2)}`)}`;
};

// The zone's abbreviation (UTC, CET, EST) as Go prints it; Go's "+01" style where it has none.
const zoneName = (date: Date, numeric: string): string => {
  const name = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(date).find((p) => p.type === 'timeZoneName')?.value ?? '';
  if (/^(UTC|GMT)$/.test(name) && numeric === '+00') return 'UTC';
  return /^[A-Z]{2,5}$/.test(name) ? name : numeric;
};

// A duration as Go's time.Duration prints it: "1.664938271s", "7m4.5s", "1h0m0s", "250ms", "0s".
export const goDuration = (nanoseconds: bigint): string => {
  const negative = nanoseconds < 0n;
  let ns = negative ? -nanoseconds : nanoseconds;
  if (ns === 0n) return '0s';
  const sign = negative ? '-' : '';
  const fraction = (value: bigint, unit: bigint, digits: number): string => {
    const whole = value / unit;
    const rest = (value % unit).toString().padStart(digits, '0').replace(/0+$/, '');
    return rest ? `${whole}.${rest}` : `${whole}`;
  };
  if (ns < 1_000n) return `${sign}${ns}ns`;
  if (ns < 1_000_000n) return `${sign}${fraction(ns, 1_000n, 3)}µs`;
  if (ns < 1_000_000_000n) return `${sign}${fraction(ns, 1_000_000n, 6)}ms`;
  const hours = ns / 3_600_000_000_000n;
  ns %= 3_600_000_000_000n;
  const minutes = ns / 60_000_000_000n;
  ns %= 60_000_000_000n;
  const seconds = `${fraction(ns, 1_000_000_000n, 9)}s`;
  if (hours > 0n) return `${sign}${hours}h${minutes}m${seconds}`;
  if (minutes > 0n) return `${sign}${minutes}m${seconds}`;
  return `${sign}${seconds}`;
};
