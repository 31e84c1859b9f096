import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Catalog } from '../catalog/index.ts';
import { createHttpResolver, listen } from '../resolver/index.ts';
import { endpoint, fakeStatus, FakeSource } from '../resolver/testing/fixtures.ts';
import { Weights } from '../sync/index.ts';
import { runCli } from './run-cli.ts';
import { captureIo, configFile, fakeDeps } from './testing.ts';

/** A fetch that records requests and answers like the resolver's weight routes. */
function fakeResolver(status = 200, body: unknown = { service: 'shop/orders', split: { vm: 90, k8s: 10 } }) {
  const calls: { method: string; url: string; body: unknown; auth: string | null }[] = [];
  const fetchImpl = (async (input: string | URL, init?: RequestInit) => {
    const headers = new Headers(init?.headers);
    calls.push({ method: init?.method ?? 'GET', url: input.toString(), body: typeof init?.body === 'string' ? JSON.parse(init.body) : undefined, auth: headers.get('authorization') });
    return Promise.resolve(new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } }));
  }) as typeof fetch;
  return { calls, fetchImpl };
}

describe('isthmus weight', () => {
  it('PUTs the split and prints it', async () => {
    const r = fakeResolver();
    const cap = captureIo({ fetch: r.fetchImpl, env: { ISTHMUS_URL: 'http://127.0.0.1:9' } });
    expect(await runCli(['weight', 'shop/orders', 'vm=90', 'k8s=10'], fakeDeps(), cap.io)).toBe(0);
    expect(r.calls).toEqual([{ method: 'PUT', url: 'http://127.0.0.1:9/v1/weights/shop/orders', body: { vm: 90, k8s: 10 }, auth: null }]);
    expect(cap.out()).toBe('shop/orders: vm=90 k8s=10\n');
  });

  it('refuses malformed shares and mixing shares with --clear (exit 2)', async () => {
    const r = fakeResolver();
    const cap = captureIo({ fetch: r.fetchImpl });
    expect(await runCli(['weight', 'shop/orders', 'vm:90'], fakeDeps(), cap.io)).toBe(2);
    expect(cap.err()).toMatch(/REGISTRY=SHARE/);
    expect(await runCli(['weight', 'shop/orders', 'vm=1', '--clear'], fakeDeps(), cap.io)).toBe(2);
    expect(r.calls).toHaveLength(0);
  });

  it('reports a refused split with the resolver message (exit 1)', async () => {
    const r = fakeResolver(400, { code: 'ISTHMUS_USAGE', message: 'weights for shop/orders: share of vm must be a number from 0 to 10000' });
    const cap = captureIo({ fetch: r.fetchImpl });
    expect(await runCli(['weight', 'shop/orders', 'vm=20000'], fakeDeps(), cap.io)).not.toBe(0);
    expect(cap.err()).toMatch(/0 to 10000/);
  });

  it('clears with DELETE', async () => {
    const r = fakeResolver(200, { service: 'shop/orders', split: null });
    const cap = captureIo({ fetch: r.fetchImpl });
    expect(await runCli(['weight', 'shop/orders', '--clear'], fakeDeps(), cap.io)).toBe(0);
    expect(r.calls[0]?.method).toBe('DELETE');
    expect(cap.out()).toMatch(/no split/);
  });
});

describe('isthmus weight against a real resolver', () => {
  const ORDERS = { namespace: 'shop', name: 'orders' };
  const TOKEN = 'cli-weights-token';
  const vm = new FakeSource('vm');
  const k8s = new FakeSource('k8s');
  const catalog = new Catalog([vm, k8s]);
  const weights = new Weights({}, { registries: ['vm', 'k8s'] });
  const deps = { catalog, status: fakeStatus, health: () => ({ ok: true, reasons: [] }), weights };
  const withToken = createHttpResolver({ ...deps, auth: { token: TOKEN } });
  const withoutToken = createHttpResolver(deps);
  const tokenFile = configFile(`${TOKEN}\n`);
  const urls = { withToken: '', withoutToken: '' };

  beforeAll(async () => {
    catalog.start();
    vm.put(ORDERS, [endpoint('vm', '10.0.0.1')]);
    k8s.put(ORDERS, [endpoint('k8s', '10.1.0.1')]);
    urls.withToken = await listen(withToken, { port: 0, host: '127.0.0.1' });
    urls.withoutToken = await listen(withoutToken, { port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await withToken.close();
    await withoutToken.close();
    catalog.stop();
  });

  const weigh = async (url: string, ...words: string[]) => {
    const cap = captureIo({ fetch, env: { ISTHMUS_URL: url } });
    const code = await runCli(['weight', 'shop/orders', ...words, '--token-file', tokenFile], fakeDeps(), cap.io);
    return { code, out: cap.out(), err: cap.err() };
  };

  it('exits 2 on a registry id the bridge does not have, naming it and the configured ones', async () => {
    const r = await weigh(urls.withToken, 'vm=10', 'k8=90');
    expect(r.code).toBe(2);
    expect(r.err).toContain('registry "k8" is not configured; configured registries: k8s, vm');
    expect(weights.get(ORDERS)).toBeUndefined();
    expect(await weigh(urls.withToken, 'vm=10', 'k8s=90')).toMatchObject({ code: 0, out: 'shop/orders: vm=10 k8s=90 (this bridge\'s memory only)\n' });
  });

  it('exits 1 for a service the bridge does not have', async () => {
    const cap = captureIo({ fetch, env: { ISTHMUS_URL: urls.withToken } });
    expect(await runCli(['weight', 'shop/nope', 'vm=1', '--token-file', tokenFile], fakeDeps(), cap.io)).toBe(1);
    expect(cap.err()).toContain('service shop/nope is not in the catalog');
  });

  it('exits 1 when the bridge has no token, saying how to enable changes', async () => {
    const r = await weigh(urls.withoutToken, 'vm=50', 'k8s=50');
    expect(r.code).toBe(1);
    expect(r.err).toContain('runtime weight changes are disabled because this resolver has no token');
    expect(r.err).not.toContain('pass --token-file');
  });
});
