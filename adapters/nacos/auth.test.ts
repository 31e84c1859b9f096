import { describe, expect, it } from 'vitest';
import { BridgeError } from '../../bridge/errors/index.ts';
import { TokenSource } from './auth.ts';

function fakeFetch(replies: Record<string, { status: number; body: unknown }>, calls: string[]): typeof fetch {
  return ((url: string) => {
    calls.push(url);
    const path = Object.keys(replies).find((p) => url.endsWith(p));
    const r = path === undefined ? { status: 404, body: '' } : replies[path]!;
    return Promise.resolve(new Response(typeof r.body === 'string' ? r.body : JSON.stringify(r.body), { status: r.status }));
  }) as typeof fetch;
}

describe('nacos token source', () => {
  const creds = { username: 'nacos', password: 's3cret-pw' };

  it('logs in once, reuses the token, and refreshes at half its lifetime', async () => {
    let now = 0;
    const calls: string[] = [];
    const t = new TokenSource({ baseUrl: 'http://n/nacos', credentials: creds, registry: 'n', requestTimeoutMs: 1000, now: () => now, fetch: fakeFetch({ '/v3/auth/user/login': { status: 200, body: { accessToken: 'tok', tokenTtl: 100 } } }, calls) });
    expect(await t.token()).toBe('tok');
    now = 49_000;
    await t.token();
    expect(calls).toHaveLength(1);
    now = 51_000;
    await t.token();
    expect(calls).toHaveLength(2);
  });

  it('falls back to the v1 login of 2.x servers', async () => {
    const calls: string[] = [];
    const t = new TokenSource({ baseUrl: 'http://n/nacos', credentials: creds, registry: 'n', requestTimeoutMs: 1000, fetch: fakeFetch({ '/v1/auth/login': { status: 200, body: { accessToken: 'v1tok', tokenTtl: 18000 } } }, calls) });
    expect(await t.token()).toBe('v1tok');
    expect(calls.map((c) => c.replace('http://n/nacos', ''))).toEqual(['/v3/auth/user/login', '/v1/auth/login']);
  });

  it('reports wrong credentials as ISTHMUS_REGISTRY_AUTH without the password in the message', async () => {
    const t = new TokenSource({ baseUrl: 'http://n/nacos', credentials: creds, registry: 'n', requestTimeoutMs: 1000, fetch: fakeFetch({ '/v3/auth/user/login': { status: 500, body: '' }, '/v1/auth/login': { status: 500, body: '' } }, []) });
    const err = await t.token().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BridgeError);
    expect((err as BridgeError).code).toBe('ISTHMUS_REGISTRY_AUTH');
    expect((err as BridgeError).message).not.toContain('s3cret');
  });
});
