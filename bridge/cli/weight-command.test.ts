import { describe, expect, it } from 'vitest';
import { runCli } from './run-cli.ts';
import { captureIo, fakeDeps } from './testing.ts';

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
