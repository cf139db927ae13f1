// An OCI distribution (v2) client for one registry: scheme selection, bearer/basic auth, retries with
// backoff for 429/5xx and network errors, and typed errors with a fix in the message.
//
// WARNING: blob and manifest bytes come back as the registry sent them; callers verify digests.
import { existsSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Dispatcher } from 'undici';
import { CliError, messageOf } from '../../errors.js';
import { readBounded, readBoundedFile, type Bound } from '../../util/bounded-read.js';
import { ERROR_BODY_MAX, TOKEN_RESPONSE_MAX } from '../../util/limits.js';
import { log } from '../../util/log.js';
import { parseChallenge, type Credentials } from './auth.js';
import { listDir } from '../../util/fs.js';

export interface RegistryClientOptions {
  /** host[:port] as in references; docker.io is reached at registry-1.docker.io. */
  registry: string;
  /** Allow plain HTTP and unverified TLS (registries.conf `insecure`, or --tls-verify=false). */
  insecure: boolean;
  /** Verify TLS certificates (false only when the user says so). */
  tlsVerify: boolean;
  credentials?: Credentials;
  /** Attempts for a request that fails with 429/5xx or a network error. */
  attempts?: number;
  /** The wait between attempts (ms); by default a backoff that doubles. */
  retryDelayMs?: number;
  /** What sends the requests (tests give undici's MockAgent); by default an Agent of the client's own. */
  dispatcher?: Dispatcher;
  /** A certs.d-style directory used instead of the default ones (--cert-dir). */
  certDir?: string;
}

export interface RegistryResponse {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  body: Dispatcher.ResponseData['body'];
}

interface RequestOptions {
  method?: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';
  headers?: Record<string, string>;
  body?: Buffer | NodeJS.ReadableStream;
  /** The token scope this request needs, e.g. "repository:library/busybox:pull". */
  scope: string;
  /** Status codes the caller handles itself (everything else >= 400 throws). */
  accept?: number[];
  /** Full URL (for upload locations); otherwise `path` under /v2/. */
  url?: string;
}

const isLoopback = (registry: string): boolean => /^(localhost|127(?:\.\d+){3}|\[::1\])(?::\d+)?$/.test(registry);

const retryBaseMs = (): number => Number(process.env.SKIFF_RETRY_BASE_MS ?? 500);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const header = (headers: RegistryResponse['headers'], name: string): string | undefined => {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
};

// A certs.d file (a PEM certificate or key) is small; one bigger than this is not one.
const CERT_FILE_MAX = 1024 * 1024;

export interface TlsMaterial {
  /** CA certificates (*.crt) to trust besides the system's. */
  ca: string[];
  /** A client certificate (*.cert) and its key (*.key, the same base name). */
  cert?: string;
  key?: string;
}

// TLS files in the containers-certs.d layout: *.crt CAs, *.cert + *.key client pairs (a pair
// missing its other half is refused, as containers/image does). `certDir` (--cert-dir) replaces
// the default directories for this registry (~/.config/skiff/certs.d, /etc/containers/certs.d,
// /etc/docker/certs.d).
export const tlsMaterial = (registry: string, certDir?: string): TlsMaterial => {
  const dirs = certDir
    ? [certDir]
    : [
        join(process.env.XDG_CONFIG_HOME || join(process.env.HOME || homedir(), '.config'), 'skiff', 'certs.d', registry),
        join('/etc/containers/certs.d', registry),
        join('/etc/docker/certs.d', registry),
      ];
  if (certDir && !existsSync(certDir)) throw new CliError('EUSAGE', `--cert-dir ${certDir}: no such directory`);
  const read = (path: string) => readBoundedFile(path, { what: `TLS file ${path}`, limit: CERT_FILE_MAX, code: 'ECONFIG' }).toString('utf8');
  const material: TlsMaterial = { ca: [] };
  for (const dir of dirs) {
    const names = listDir(dir).sort();
    for (const name of names) {
      const path = join(dir, name);
      if (name.endsWith('.crt')) material.ca.push(read(path));
      else if (name.endsWith('.cert')) {
        const key = `${name.slice(0, -5)}.key`;
        if (!names.includes(key)) throw new CliError('ECONFIG', `missing key ${key} for client certificate ${path}`);
        material.cert = read(path);
        material.key = read(join(dir, key));
      } else if (name.endsWith('.key') && !names.includes(`${name.slice(0, -4)}.cert`))
        throw new CliError('ECONFIG', `missing client certificate ${name.slice(0, -4)}.cert for key ${path}`);
    }
  }
  return material;
};

// Reads a response's whole body, at most `bound.limit` bytes (a Content-Length over it fails at once).
export const readBody = (response: Pick<RegistryResponse, 'headers' | 'body'>, bound: Bound): Promise<Buffer> => {
  const length = Number(header(response.headers, 'content-length'));
  return readBounded(response.body, bound, Number.isFinite(length) && length >= 0 ? length : undefined);
};

// Parses a JSON body read by readBody; `what` names it when it is not JSON.
export const parseJsonBody = <T>(bytes: Buffer, what: string): T => {
  try {
    return JSON.parse(bytes.toString('utf8')) as T;
  } catch {
    throw new CliError('EREGISTRY', `${what} is not JSON`);
  }
};

const TLS_FALLBACK_CODES = new Set(['EPROTO', 'ERR_SSL_WRONG_VERSION_NUMBER', 'ECONNRESET', 'UND_ERR_SOCKET']);

// undici is loaded when the first client is made: commands that never talk to a registry skip it.
let undici: typeof import('undici') | undefined;

export class RegistryClient {
  readonly registry: string;
  private readonly options: RegistryClientOptions;
  private readonly dispatcher: Dispatcher;
  private readonly endpoint: string;
  private scheme: 'https' | 'http' | undefined;
  private readonly tokens = new Map<string, string>();
  private basic = false;

  // Makes a client (loading the HTTP stack on first use).
  static async create(options: RegistryClientOptions): Promise<RegistryClient> {
    undici ??= await import('undici');
    return new RegistryClient(options);
  }

  private constructor(options: RegistryClientOptions) {
    this.options = options;
    this.registry = options.registry;
    this.endpoint = options.registry === 'docker.io' ? 'registry-1.docker.io' : options.registry;
    const tls = options.dispatcher ? { ca: [] } : tlsMaterial(options.registry, options.certDir);
    this.dispatcher =
      options.dispatcher ??
      new undici!.Agent({
        connect: {
          timeout: Number(process.env.SKIFF_CONNECT_TIMEOUT_MS ?? 10_000),
          rejectUnauthorized: options.tlsVerify,
          ...(tls.ca.length ? { ca: [...rootCertificates, ...tls.ca] } : {}),
          ...(tls.cert ? { cert: tls.cert, key: tls.key } : {}),
        },
        headersTimeout: 60_000,
        bodyTimeout: 120_000,
        connections: 16,
      });
    if (!options.insecure && !isLoopback(options.registry)) this.scheme = 'https';
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }

  // Sends a request under /v2/, authenticating and retrying as needed.
  async request(path: string, options: RequestOptions): Promise<RegistryResponse> {
    const attempts = this.options.attempts ?? Number(process.env.SKIFF_RETRY_ATTEMPTS ?? 4);
    for (let attempt = 1; ; attempt++) {
      let response: RegistryResponse;
      try {
        response = await this.send(path, options);
      } catch (error) {
        const mapped = this.unreachable(error);
        if (mapped.code !== 'EUNREACHABLE' || error instanceof CliError || attempt >= attempts || options.body) throw mapped;
        log.debug(`registry ${this.registry}: ${messageOf(error)}; retrying (${attempt}/${attempts})`);
        await sleep(this.retryDelay(attempt));
        continue;
      }
      const status = response.statusCode;
      if ((status === 429 || status >= 500) && attempt < attempts && !options.body) {
        await response.body.dump();
        const retryAfter = Number(header(response.headers, 'retry-after'));
        const delay = Number.isFinite(retryAfter) && retryAfter > 0 ? Math.min(retryAfter * 1000, 10_000) : this.retryDelay(attempt);
        log.debug(`registry ${this.registry}: HTTP ${status}; retrying in ${delay} ms (${attempt}/${attempts})`);
        await sleep(delay);
        continue;
      }
      if (status >= 400 && !options.accept?.includes(status)) throw await this.httpError(response, path, attempt);
      return response;
    }
  }

  // The wait before attempt `attempt` + 1: --retry-delay's, else a backoff that doubles.
  private retryDelay(attempt: number): number {
    return this.options.retryDelayMs ?? retryBaseMs() * 2 ** (attempt - 1);
  }

  private unreachable(error: unknown): CliError {
    if (error instanceof CliError) return error;
    const e = error as { code?: string; cause?: { code?: string; message?: string } };
    const code = e.cause?.code ?? e.code;
    if (code && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(code)) {
      return new CliError(
        'EREGISTRY',
        `TLS verification failed for registry ${this.registry} (${code}): add its CA under ~/.config/skiff/certs.d/${this.registry}/ca.crt, or use --tls-verify=false if you trust it`,
        { cause: error },
      );
    }
    return new CliError('EUNREACHABLE', `cannot reach registry ${this.registry}: ${e.cause?.message ?? messageOf(error)}`, { cause: error });
  }

  private async httpError(response: RegistryResponse, path: string, attempt: number): Promise<CliError> {
    const status = response.statusCode;
    let detail = '';
    const bytes = await readBody(response, { what: `the body of registry ${this.registry}'s HTTP ${status} answer for ${path}`, limit: ERROR_BODY_MAX });
    try {
      const body = JSON.parse(bytes.toString('utf8')) as { errors?: { code?: string; message?: string }[] };
      detail = body.errors?.map((e) => [e.code, e.message].filter(Boolean).join(': ')).join('; ') ?? '';
      // One line, of a readable length, whatever the registry wrote.
      detail = detail.replace(/[\x00-\x1f\x7f]+/g, ' ');
      if (detail.length > 300) detail = `${detail.slice(0, 300)}…`;
    } catch {
      /* not JSON: keep the status alone */
    }
    const what = `${this.registry} ${path.replace(/^\/v2\//, '')}`;
    if (status === 401) {
      return new CliError(
        'EUNAUTHORIZED',
        `authentication required for ${what}${detail ? ` (${detail})` : ''}: run \`skiff login ${this.registry}\` or pass --creds`,
      );
    }
    if (status === 403)
      return new CliError(
        'EUNAUTHORIZED',
        `access denied to ${what}${detail ? ` (${detail})` : ''}: check your credentials with \`skiff login ${this.registry}\``,
      );
    const retried = attempt > 1 ? ` after ${attempt} attempts` : '';
    return new CliError('EREGISTRY', `registry ${this.registry} answered ${status} for ${path}${retried}${detail ? `: ${detail}` : ''}`);
  }

  private async send(path: string, options: RequestOptions): Promise<RegistryResponse> {
    let response = await this.sendOnce(path, options);
    if (response.statusCode !== 401) return response;
    const challengeHeader = header(response.headers, 'www-authenticate');
    const challenge = challengeHeader ? parseChallenge(challengeHeader) : undefined;
    if (!challenge) return response;
    await response.body.dump();
    if (challenge.scheme === 'basic') {
      if (!this.options.credentials || this.basic) return this.sendOnce(path, options);
      this.basic = true;
    } else if (challenge.scheme === 'bearer') {
      await this.fetchToken(challenge.params, options.scope);
    } else {
      return this.sendOnce(path, options);
    }
    response = await this.sendOnce(path, options);
    return response;
  }

  private authorization(scope: string): string | undefined {
    const token = this.tokens.get(scope);
    if (token) return `Bearer ${token}`;
    const creds = this.options.credentials;
    if (this.basic && creds) return `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
    return undefined;
  }

  private async fetchToken(params: Record<string, string>, scope: string): Promise<void> {
    if (!params.realm) throw new CliError('EREGISTRY', `registry ${this.registry} sent a bearer challenge without a realm`);
    const url = new URL(params.realm);
    if (params.service) url.searchParams.set('service', params.service);
    if (scope) url.searchParams.set('scope', scope);
    const headers: Record<string, string> = {};
    const creds = this.options.credentials;
    if (creds) headers.authorization = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
    let res: Dispatcher.ResponseData;
    try {
      res = await undici!.request(url, { method: 'GET', headers, dispatcher: this.dispatcher });
    } catch (error) {
      throw new CliError('EUNREACHABLE', `cannot reach the token service ${url.origin} of ${this.registry}: ${messageOf(error)}`, { cause: error });
    }
    if (res.statusCode === 401 || res.statusCode === 403) {
      await res.body.dump();
      throw new CliError(
        'EUNAUTHORIZED',
        `the token service of ${this.registry} refused ${creds ? `the credentials of ${creds.username}` : 'anonymous access'}: run \`skiff login ${this.registry}\``,
      );
    }
    if (res.statusCode >= 400) {
      await res.body.dump();
      throw new CliError('EREGISTRY', `the token service of ${this.registry} answered ${res.statusCode}`);
    }
    const what = `the answer of the token service of ${this.registry}`;
    const body = parseJsonBody<{ token?: string; access_token?: string }>(await readBody(res, { what, limit: TOKEN_RESPONSE_MAX }), what);
    const token = body.token ?? body.access_token;
    if (!token) throw new CliError('EREGISTRY', `the token service of ${this.registry} returned no token`);
    this.tokens.set(scope, token);
  }

  private async sendOnce(path: string, options: RequestOptions): Promise<RegistryResponse> {
    const headers: Record<string, string> = { ...options.headers };
    const auth = this.authorization(options.scope);
    if (auth) headers.authorization = auth;
    const go = (scheme: string) =>
      undici!.request(options.url ?? `${scheme}://${this.endpoint}${path}`, {
        method: options.method ?? 'GET',
        headers,
        body: options.body as Dispatcher.DispatchOptions['body'],
        dispatcher: this.dispatcher,
        maxRedirections: options.method === 'GET' || options.method === 'HEAD' || !options.method ? 5 : 0,
      } as Parameters<typeof import('undici').request>[1]);
    if (this.scheme) return go(this.scheme);
    // An insecure or loopback registry: HTTPS first, plain HTTP when it does not speak TLS.
    try {
      const response = await go('https');
      this.scheme = 'https';
      return response;
    } catch (error) {
      const code = (error as { code?: string; cause?: { code?: string } }).cause?.code ?? (error as { code?: string }).code;
      if (!code || !TLS_FALLBACK_CODES.has(code)) throw error;
      log.debug(`registry ${this.registry}: no TLS (${code}); using plain HTTP`);
      this.scheme = 'http';
      return go('http');
    }
  }

  /** The base URL in use (after the first request), for resolving relative upload locations. */
  baseUrl(): string {
    return `${this.scheme ?? 'https'}://${this.endpoint}`;
  }
}
