// The value checks Quadlet keys need before they become skiff flags: systemd booleans, ports to
// publish, Go-style durations, whole numbers. Each answers with what is wrong, or nothing.

// systemd's boolean words (parse_boolean), any case; undefined for anything else.
export const parseBoolean = (value: string): boolean | undefined => {
  const v = value.toLowerCase();
  if (['1', 'yes', 'y', 'true', 't', 'on'].includes(v)) return true;
  if (['0', 'no', 'n', 'false', 'f', 'off'].includes(v)) return false;
  return undefined;
};

const PORT = /^\d{1,5}$/;

// A port or a START-END range, each 1 to 65535: what is wrong with it, or undefined.
const checkPorts = (text: string): string | undefined => {
  const [start, end, extra] = text.split('-');
  if (extra !== undefined || !PORT.test(start) || (end !== undefined && !PORT.test(end))) return `'${text}' is not a port or a port range`;
  const [a, b] = [Number(start), Number(end ?? start)];
  if (a < 1 || b > 65535 || a > 65535) return `port ${a > 65535 || a < 1 ? a : b} is out of range (1-65535)`;
  if (a > b) return `the range ${text} ends before it starts`;
  return undefined;
};

const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

// PublishPort=[[IP:][HOST-PORT]:]CONTAINER-PORT[/PROTOCOL], as `skiff run -p` takes it (IPv6
// addresses in brackets): what is wrong with it, or undefined.
export const checkPublishPort = (value: string): string | undefined => {
  let rest = value;
  const slash = rest.lastIndexOf('/');
  if (slash >= 0) {
    const proto = rest.slice(slash + 1);
    if (!['tcp', 'udp', 'sctp'].includes(proto)) return `unknown protocol '${proto}' (use tcp, udp or sctp)`;
    rest = rest.slice(0, slash);
  }
  let ip: string | undefined;
  const bracket = /^\[([0-9a-fA-F:.]+)\]:(.*)$/.exec(rest);
  if (bracket) [, ip, rest] = bracket;
  const parts = rest.split(':');
  if (!ip && parts.length === 3) ip = parts.shift();
  if (ip !== undefined && !bracket && !IPV4.test(ip)) return `'${ip}' is not an IP address`;
  if (parts.length > 2) return 'too many colons';
  if (ip !== undefined && parts.length !== 2) return 'after an IP address come HOST-PORT:CONTAINER-PORT (HOST-PORT may be empty)';
  const [host, container] = parts.length === 2 ? parts : [undefined, parts[0]];
  if (host !== undefined && (host !== '' || ip === undefined)) {
    const wrong = checkPorts(host);
    if (wrong) return wrong;
  }
  return checkPorts(container);
};

// A Go duration as Podman's --health-* flags take it (30s, 1m30s, 500ms, 1.5h).
export const isDuration = (value: string): boolean => value === '0' || /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(value);

// A whole number, optionally negative.
export const isInteger = (value: string, allowNegative = false): boolean => (allowNegative ? /^-?\d+$/ : /^\d+$/).test(value);

// A unit name systemd accepts (unit_name_is_valid): letters, digits and ":-_.\@", at most 255 long.
export const isUnitName = (name: string): boolean => name.length <= 255 && /^[A-Za-z0-9:_.\\@-]+$/.test(name);
