import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { Catalog } from '../catalog/index.ts';
import { Weights } from '../sync/index.ts';
import { createHttpResolver, listen, resolverStats } from './http-resolver.ts';
import { SESSION_COOKIE } from './console-session.ts';
import { endpoint, fakeStatus, FakeSource, SseReader } from './testing/fixtures.ts';

const TOKEN = 'console-test-token';
let app: FastifyInstance | undefined;

afterEach(async () => {
  await app?.close();
  app = undefined;
});

function setup(auth: boolean, maxWatchStreams = 100) {
  const src = new FakeSource('consul');
  src.put({ namespace: 'shop', name: 'orders' }, [endpoint('consul', '10.0.0.1')]);
  const catalog = new Catalog([src]);
  catalog.start();
  const weights = new Weights({}, { registries: ['consul'] });
  app = createHttpResolver(
    { catalog, status: fakeStatus, health: () => ({ ok: true, reasons: [] }), weights, registryKinds: { consul: 'consul' }, ...(auth ? { auth: { token: TOKEN } } : {}) },
    { limits: { maxWatchStreams } },
  );
  return app;
}

async function login(app: FastifyInstance, token: string) {
  return app.inject({ method: 'POST', url: '/ui/login', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: `token=${encodeURIComponent(token)}` });
}

describe('/ui without auth', () => {
  it('serves the page with a strict CSP, and its assets', async () => {
    const app = setup(false);
    const page = await app.inject('/ui');
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.body).toContain('/ui/assets/app.js');
    for (const f of ['app.js', 'overview.js', 'service.js', 'bridge.js', 'dom.js', 'format.js', 'model.js']) {
      const res = await app.inject(`/ui/assets/${f}`);
      expect(res.statusCode, f).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/javascript/);
    }
    expect((await app.inject('/ui/assets/style.css')).headers['content-type']).toMatch(/^text\/css/);
  });

  it('serves nothing else from the console directory', async () => {
    const app = setup(false);
    for (const path of ['/ui/assets/login.html', '/ui/assets/..%2Fconsole-routes.ts', '/ui/assets/constructor', '/ui/assets/__proto__']) {
      expect((await app.inject(path)).statusCode, path).toBe(404);
    }
  });
});

describe('/ui with auth', () => {
  it('answers 401 with the login page without a session, and the page after login', async () => {
    const app = setup(true);
    const denied = await app.inject('/ui');
    expect(denied.statusCode).toBe(401);
    expect(denied.body).toContain('name="token"');
    expect(denied.body).toContain('data-failed="false"');

    const wrong = await login(app, 'nope');
    expect(wrong.statusCode).toBe(401);
    expect(wrong.headers['set-cookie']).toBeUndefined();
    expect(wrong.body).toContain('data-failed="true"');

    const ok = await login(app, TOKEN);
    expect(ok.statusCode).toBe(303);
    expect(ok.headers.location).toBe('/ui');
    const setCookie = String(ok.headers['set-cookie']);
    expect(setCookie).toMatch(/HttpOnly; SameSite=Strict/);
    const cookie = setCookie.split(';')[0] ?? '';
    expect(cookie.startsWith(`${SESSION_COOKIE}=`)).toBe(true);

    const page = await app.inject({ url: '/ui', headers: { cookie } });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('app.js');
  });

  it('lets the session cookie read /v1 but not change weights', async () => {
    const app = setup(true);
    const cookie = String((await login(app, TOKEN)).headers['set-cookie']).split(';')[0] ?? '';
    expect((await app.inject('/v1/services')).statusCode).toBe(401);
    expect((await app.inject({ url: '/v1/services', headers: { cookie } })).statusCode).toBe(200);
    expect((await app.inject({ url: '/v1/status/shop/orders', headers: { cookie } })).statusCode).toBe(200);
    const put = await app.inject({ method: 'PUT', url: '/v1/weights/shop/orders', headers: { cookie, 'content-type': 'application/json' }, payload: { consul: 100 } });
    expect(put.statusCode).toBe(401);
    const bearer = await app.inject({ method: 'PUT', url: '/v1/weights/shop/orders', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, payload: { consul: 100 } });
    expect(bearer.statusCode).toBe(200);
  });

  it('refuses a sign-in posted from another site', async () => {
    const app = setup(true);
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const cross = await app.inject({ method: 'POST', url: '/ui/login', headers: { ...form, host: 'isthmus:8080', origin: 'https://evil.example' }, payload: `token=${TOKEN}` });
    expect(cross.statusCode).toBe(403);
    expect(cross.headers['set-cookie']).toBeUndefined();
    const fetchMeta = await app.inject({ method: 'POST', url: '/ui/login', headers: { ...form, 'sec-fetch-site': 'cross-site' }, payload: `token=${TOKEN}` });
    expect(fetchMeta.statusCode).toBe(403);
    const same = await app.inject({ method: 'POST', url: '/ui/login', headers: { ...form, host: 'isthmus:8080', origin: 'http://isthmus:8080' }, payload: `token=${TOKEN}` });
    expect(same.statusCode).toBe(303);
  });

  it('keeps probes open and logs out', async () => {
    const app = setup(true);
    expect((await app.inject('/ui/login')).headers.location).toBe('/ui');
    expect((await app.inject('/livez')).statusCode).toBe(200);
    expect((await app.inject('/readyz')).statusCode).toBe(200);
    const out = await app.inject({ method: 'POST', url: '/ui/logout' });
    expect(out.statusCode).toBe(303);
    expect(String(out.headers['set-cookie'])).toMatch(/Max-Age=0/);
  });
});

describe('GET /v1/events over HTTP', () => {
  it('streams catalog and status, counts against maxWatchStreams, and ends on close', async () => {
    const resolver = setup(false, 1);
    const url = await listen(resolver, { port: 0, host: '127.0.0.1' });
    const sse = await SseReader.open(`${url}/v1/events`);
    expect(sse.response.headers['content-type']).toMatch(/^text\/event-stream/);
    const first = await sse.nextEvent();
    expect(first.event).toBe('catalog');
    const status = await sse.nextEvent();
    expect(status.event).toBe('status');
    expect(JSON.parse(status.data ?? '{}')).toMatchObject({ bridgeId: 'test-bridge', kinds: { consul: 'consul' }, exports: [] });
    expect(resolverStats(resolver).watchers).toBe(1);
    const refused = await fetch(`${url}/v1/events`);
    expect(refused.status).toBe(503);
    expect(((await refused.json()) as { code: string }).code).toBe('ISTHMUS_TOO_MANY_WATCHES');
    const closing = resolver.close();
    await sse.ended();
    await closing;
    app = undefined;
  });

  it('needs the token or the session cookie with auth', async () => {
    const app = setup(true);
    const url = await listen(app, { port: 0, host: '127.0.0.1' });
    expect((await fetch(`${url}/v1/events`)).status).toBe(401);
    const cookie = String((await login(app, TOKEN)).headers['set-cookie']).split(';')[0] ?? '';
    const sse = await SseReader.open(`${url}/v1/events`, { cookie });
    expect(sse.response.statusCode).toBe(200);
    expect((await sse.nextEvent()).event).toBe('catalog');
    sse.close();
  });
});
