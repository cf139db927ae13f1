// The registry client's retry and authentication paths against undici's MockAgent: what it retries
// (429, 5xx, network errors; Retry-After honoured; never a request with a body), how it gives up,
// and the bearer and basic challenges. The system tests cover the same against real registries;
// these reach the cases a real registry does not produce on demand.
import { MockAgent } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../../../src/image/registry/client.js';

const REGISTRY = 'registry.test';
const ORIGIN = `https://${REGISTRY}`;
let agent: MockAgent;

beforeEach(() => {
  process.env.SKIFF_RETRY_BASE_MS = '1';
  agent = new MockAgent();
  agent.disableNetConnect();
});
afterEach(async () => {
  delete process.env.SKIFF_RETRY_BASE_MS;
  await agent.close();
});

const client = (options: { attempts?: number; credentials?: { username: string; password: string } } = {}) =>
  RegistryClient.create({ registry: REGISTRY, insecure: false, tlsVerify: true, dispatcher: agent, ...options });

const scope = 'repository:x:pull';

describe('registry client retries', () => {
  it('retries a 503 and a 429, then returns the answer', async () => {
    const pool = agent.get(ORIGIN);
    pool.intercept({ path: '/v2/x/tags/list' }).reply(503, 'busy');
    pool.intercept({ path: '/v2/x/tags/list' }).reply(429, 'slow down', { headers: { 'retry-after': '0' } });
    pool.intercept({ path: '/v2/x/tags/list' }).reply(200, '{"tags":["1"]}');
    const response = await (await client()).request('/v2/x/tags/list', { scope });
    expect(response.statusCode).toBe(200);
    expect(await response.body.text()).toBe('{"tags":["1"]}');
    agent.assertNoPendingInterceptors();
  });

  it('retries a network error', async () => {
    const pool = agent.get(ORIGIN);
    pool.intercept({ path: '/v2/' }).replyWithError(Object.assign(new Error('connection reset'), { code: 'ECONNRESET' }));
    pool.intercept({ path: '/v2/' }).reply(200, '{}');
    expect((await (await client()).request('/v2/', { scope: '' })).statusCode).toBe(200);
  });

  it("gives up after its attempts, saying how many, with the registry's own error", async () => {
    const pool = agent.get(ORIGIN);
    const body = JSON.stringify({ errors: [{ code: 'UNAVAILABLE', message: 'maintenance' }] });
    pool.intercept({ path: '/v2/x/manifests/1' }).reply(503, body).times(3);
    const error = await (await client({ attempts: 3 })).request('/v2/x/manifests/1', { scope }).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'EREGISTRY',
      message: 'registry registry.test answered 503 for /v2/x/manifests/1 after 3 attempts: UNAVAILABLE: maintenance',
    });
    agent.assertNoPendingInterceptors();
  });

  it('waits --retry-delay between attempts instead of its backoff', async () => {
    const pool = agent.get(ORIGIN);
    pool.intercept({ path: '/v2/x/tags/list' }).reply(503, 'busy').times(2);
    pool.intercept({ path: '/v2/x/tags/list' }).reply(200, '{}');
    const started = Date.now();
    const c = await RegistryClient.create({ registry: REGISTRY, insecure: false, tlsVerify: true, dispatcher: agent, retryDelayMs: 150 });
    expect((await c.request('/v2/x/tags/list', { scope })).statusCode).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
  });

  it('never retries a request that sends a body (an upload)', async () => {
    const pool = agent.get(ORIGIN);
    pool.intercept({ path: '/v2/x/blobs/uploads/', method: 'POST' }).reply(503, '');
    pool.intercept({ path: '/v2/x/blobs/uploads/', method: 'POST' }).reply(202, '');
    const error = await (await client()).request('/v2/x/blobs/uploads/', { method: 'POST', body: Buffer.from('x'), scope }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'EREGISTRY', message: expect.stringContaining('answered 503') });
    expect(agent.pendingInterceptors()).toHaveLength(1);
  });
});

describe('registry client authentication', () => {
  it('answers a bearer challenge with a token for the scope, sent with credentials', async () => {
    const pool = agent.get(ORIGIN);
    const auth = agent.get('https://auth.test');
    pool
      .intercept({ path: '/v2/x/manifests/1' })
      .reply(401, '', { headers: { 'www-authenticate': 'Bearer realm="https://auth.test/token",service="registry.test",scope="repository:x:pull"' } });
    auth
      .intercept({
        path: (p) =>
          p.startsWith('/token?') &&
          new URLSearchParams(p.split('?')[1]).get('scope') === scope &&
          new URLSearchParams(p.split('?')[1]).get('service') === 'registry.test',
        headers: { authorization: `Basic ${Buffer.from('me:secret').toString('base64')}` },
      })
      .reply(200, '{"token":"T0K3N"}');
    pool.intercept({ path: '/v2/x/manifests/1', headers: { authorization: 'Bearer T0K3N' } }).reply(200, 'manifest');
    // The token is kept for the scope: the next request sends it at once.
    pool.intercept({ path: '/v2/x/blobs/sha256:1', headers: { authorization: 'Bearer T0K3N' } }).reply(200, 'blob');
    const c = await client({ credentials: { username: 'me', password: 'secret' } });
    expect(await (await c.request('/v2/x/manifests/1', { scope })).body.text()).toBe('manifest');
    expect(await (await c.request('/v2/x/blobs/sha256:1', { scope })).body.text()).toBe('blob');
    agent.assertNoPendingInterceptors();
  });

  it('says the token service refused the credentials, with what to do', async () => {
    agent
      .get(ORIGIN)
      .intercept({ path: '/v2/x/manifests/1' })
      .reply(401, '', { headers: { 'www-authenticate': 'Bearer realm="https://auth.test/token"' } });
    agent
      .get('https://auth.test')
      .intercept({ path: (p) => p.startsWith('/token') })
      .reply(401, 'no');
    const error = await (await client({ credentials: { username: 'me', password: 'wrong' } })).request('/v2/x/manifests/1', { scope }).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'EUNAUTHORIZED',
      message: 'the token service of registry.test refused the credentials of me: run `skiff login registry.test`',
    });
  });

  it('answers a basic challenge with the credentials, once', async () => {
    const pool = agent.get(ORIGIN);
    const basic = `Basic ${Buffer.from('me:secret').toString('base64')}`;
    pool.intercept({ path: '/v2/' }).reply(401, '', { headers: { 'www-authenticate': 'Basic realm="registry"' } });
    pool.intercept({ path: '/v2/', headers: { authorization: basic } }).reply(200, '{}');
    pool
      .intercept({ path: '/v2/x/tags/list', headers: { authorization: basic } })
      .reply(401, '', { headers: { 'www-authenticate': 'Basic realm="registry"' } });
    pool
      .intercept({ path: '/v2/x/tags/list', headers: { authorization: basic } })
      .reply(401, '', { headers: { 'www-authenticate': 'Basic realm="registry"' } });
    const c = await client({ credentials: { username: 'me', password: 'secret' } });
    expect((await c.request('/v2/', { scope: '' })).statusCode).toBe(200);
    // Credentials already sent and refused: one more try, then the 401 is the answer.
    const error = await c.request('/v2/x/tags/list', { scope }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'EUNAUTHORIZED', message: expect.stringContaining('run `skiff login registry.test`') });
    agent.assertNoPendingInterceptors();
  });

  it('without credentials, a 401 says to log in', async () => {
    agent
      .get(ORIGIN)
      .intercept({ path: '/v2/x/manifests/1' })
      .reply(401, '{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}', { headers: { 'www-authenticate': 'Basic realm="r"' } });
    agent
      .get(ORIGIN)
      .intercept({ path: '/v2/x/manifests/1' })
      .reply(401, '{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}', { headers: { 'www-authenticate': 'Basic realm="r"' } });
    const error = await (await client()).request('/v2/x/manifests/1', { scope }).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'EUNAUTHORIZED',
      message:
        'authentication required for registry.test x/manifests/1 (UNAUTHORIZED: authentication required): run `skiff login registry.test` or pass --creds',
    });
  });
});
