// The typed values inside Dockerfile arguments, read as Docker reads them: Go durations, memory sizes,
// booleans, EXPOSE port specs and stop signals.
import { isIP } from 'node:net';
import { CliError } from '../errors.js';

const usage = (message: string): CliError => new CliError('EUSAGE', message);

const DURATION_UNITS: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, μs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
const DURATION_RE = /^[-+]?(?:(?:\d+\.?\d*|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$/;
const DURATION_PART_RE = /(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g;

// Go's time.ParseDuration ("1m30s", "1.5h", "300ms"), in nanoseconds.
export const parseDuration = (text: string): number => {
  if (/^[-+]?0$/.test(text)) return 0;
  if (!DURATION_RE.test(text)) throw usage(`time: invalid duration ${JSON.stringify(text)}`);
  let total = 0;
  for (const [, amount, unit] of text.matchAll(DURATION_PART_RE)) total += Number(amount) * DURATION_UNITS[unit];
  return Math.round(text.startsWith('-') ? -total : total);
};

const SIZE_RE = /^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$/;
const SIZE_UNITS: Record<string, number> = { k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

// docker/go-units RAMInBytes: "64m", "1.5g", "512", binary multiples, in bytes.
export const parseRamSize = (text: string): number => {
  const match = SIZE_RE.exec(text);
  const amount = match ? Number(match[1]) : Number.NaN;
  if (!match || Number.isNaN(amount)) throw usage(`invalid size: '${text}'`);
  return Math.trunc(amount * (match[2] ? SIZE_UNITS[match[2].toLowerCase()] : 1));
};

// Go's strconv.ParseBool; undefined when the text is no boolean.
export const parseGoBool = (text: string): boolean | undefined => {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(text)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(text)) return false;
  return undefined;
};

// A port or range ("8000-8010") as [first, last], each 0-65535.
const parsePortRange = (text: string, what: string): [number, number] => {
  const [first, last = first] = text.split(/-(.*)/s);
  const valid = (port: string): boolean => /^[-+]?\d+$/.test(port) && Number(port) >= 0 && Number(port) <= 65535;
  if (!valid(first) || !valid(last) || Number(last) < Number(first)) throw usage(`invalid ${what}: ${text}`);
  return [Number(first), Number(last)];
};

// One EXPOSE word ("80", "80/tcp", "8000-8010/udp"; an [ip:]hostPort: prefix is accepted and dropped, as Docker
// does) as the "port/proto" entries Docker writes into the image config.
const parsePort = (spec: string): string[] => {
  const parts = spec.split(':');
  const container = parts.at(-1)!;
  const hostPort = parts.length >= 2 ? parts.at(-2)! : '';
  let ip = parts.length >= 3 ? parts.slice(0, -2).join(':') : '';
  const slash = container.indexOf('/');
  const port = slash < 0 ? container : container.slice(0, slash);
  const proto = slash < 0 ? 'tcp' : container.slice(slash + 1).toLowerCase() || 'tcp';
  if (port === '') throw usage(`invalid port: ${JSON.stringify(spec)}: no port specified`);
  if (!['tcp', 'udp', 'sctp'].includes(proto)) throw usage(`invalid port: ${JSON.stringify(spec)}: invalid proto: ${container.slice(slash + 1)}`);
  if (ip.startsWith('[') && ip.endsWith(']')) ip = ip.slice(1, -1);
  if (ip !== '' && isIP(ip) === 0) throw usage(`invalid IP address: ${ip}`);
  const [first, last] = parsePortRange(port, 'containerPort');
  if (hostPort !== '') {
    const [hostFirst, hostLast] = parsePortRange(hostPort, 'hostPort');
    if (last - first !== hostLast - hostFirst && last !== first) throw usage(`invalid ranges specified for container and host Ports: ${port} and ${hostPort}`);
  }
  return Array.from({ length: last - first + 1 }, (_, i) => `${first + i}/${proto}`);
};

// EXPOSE's words as "port/proto" entries, ranges spread, each once.
export const parsePorts = (words: string[]): string[] => [...new Set(words.flatMap(parsePort))];

const SIGNAL_NAMES =
  'ABRT ALRM BUS CHLD CLD CONT FPE HUP ILL INT IO IOT KILL PIPE POLL PROF PWR QUIT SEGV STKFLT STOP SYS TERM TRAP TSTP TTIN TTOU URG USR1 USR2 VTALRM WINCH XCPU XFSZ RTMIN RTMAX';
const SIGNALS = new Set([
  ...SIGNAL_NAMES.split(' '),
  ...Array.from({ length: 15 }, (_, i) => `RTMIN+${i + 1}`),
  ...Array.from({ length: 14 }, (_, i) => `RTMAX-${i + 1}`),
]);

// STOPSIGNAL's value: a signal number, or a Linux signal name with or without SIG (moby's ParseSignal).
export const checkSignal = (signal: string): void => {
  if (/^[-+]?\d+$/.test(signal) && Number(signal) !== 0) return;
  if (SIGNALS.has(signal.toUpperCase().replace(/^SIG/, ''))) return;
  throw usage(`invalid signal: ${signal}`);
};
