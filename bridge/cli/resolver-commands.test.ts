import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CatalogEntry } from '../catalog/index.ts';
import type { Endpoint } from '../model/index.ts';
import type { BridgeStatus, ServiceExplain } from '../sync/status.ts';
import { runCli } from './run-cli.ts';
import { captureIo, fakeDeps } from './testing.ts';

const NOW = Date.parse('2026-11-23T20:00:00Z');
const TOKEN = 'tok-cli-test';

function ep(address: string, registry: string, over: Partial<Endpoint> = {}): Endpoint {
  return {
    address,
    ports: { http: 8080 },
    ready: true,
    serving: true,
    terminating: false,
    weight: 100,
    metadata: {},
    origin: { registry, nativeId: `${address}#8080` },
    ...over,
  };
}

const ORDERS: CatalogEntry = {
  ref: { namespace: 'shop', name: 'orders' },
  revision: 7,
  ports: [{ name: 'http', port: 8080, protocol: 'http' }],
  endpoints: [
    ep('10.0.0.1', 'nacos', { zone: 'a' }),
    ep('10.1.0.9', 'k8s', { ready: false, terminating: true, weight: 0 }),
    ep('10.1.0.10', 'k8s', { ready: false, serving: false }),
  ],
  registries: ['k8s', 'nacos'],
  metadata: {},
};

const STATUS: BridgeStatus = {
  bridgeId: 'prod-east',
  leader: true,
  sources: [
    { id: 'k8s', synced: true, services: 40, health: { reachable: true, lastContact: NOW - 2_000 } },
    { id: 'nacos', synced: false, services: 0, health: { reachable: false, lastContact: 0, lastError: 'connect ECONNREFUSED 10.0.0.5:8848' } },
  ],
  routes: [{ id: 'nacos->k8s', from: ['nacos'], to: 'k8s' }],
  queueDepth: 4,
  held: [{ sink: 'k8s', ref: { namespace: 'shop', name: 'pay' }, reason: 'would remove 80% of endpoints (guard: 50%)', endpoints: 8, since: NOW - 30_000, releaseAt: NOW + 90_000 }],
  quarantined: [{ registry: 'nacos', nativeId: 'inst-77', ref: { namespace: 'shop', name: 'bad' }, reason: 'invalid IP "10.0.0.300"', since: NOW - 65_000 }],
  errors: [{ sink: 'k8s', ref: { namespace: 'shop', name: 'cart' }, routes: ['nacos->k8s'], outcome: 'error', desiredEndpoints: 2, at: NOW - 5_000, error: 'ISTHMUS_REGISTRY_REJECTED: 422 invalid port' }],
};

const EXPLAIN: ServiceExplain = {
  ref: ORDERS.ref,
  sources: [{ id: 'nacos', endpoints: 1 }, { id: 'k8s', endpoints: 2 }],
  targets: [
    { sink: 'k8s', ref: ORDERS.ref, routes: ['nacos->k8s'], outcome: 'applied', desiredEndpoints: 1, at: NOW - 1_000 },
    { sink: 'consul', ref: ORDERS.ref, routes: ['nacos->consul'], outcome: 'error', desiredEndpoints: 1, at: NOW - 1_000, error: 'ISTHMUS_REGISTRY_UNREACHABLE: timeout' },
  ],
  quarantined: [],
};

let app: FastifyInstance;
let url: string;
const seen: { path: string; auth?: string | undefined }[] = [];

beforeAll(async () => {
  app = Fastify();
  app.addHook('onRequest', async (req, reply) => {
    seen.push({ path: req.url, auth: req.headers.authorization });
    if (req.url.includes('locked')) {
      await reply.code(401).send({ code: 'ISTHMUS_UNAUTHENTICATED', message: 'missing bearer token' });
    }
  });
  app.get('/v1/status', () => STATUS);
  app.get<{ Params: { ns: string; name: string } }>('/v1/status/:ns/:name', (req) =>
    req.params.name === 'orders' ? { service: ORDERS, explain: EXPLAIN } : { service: null, explain: { ...EXPLAIN, ref: req.params, targets: [] } },
  );
  app.get<{ Params: { ns: string; name: string }; Querystring: Record<string, string> }>('/v1/services/:ns/:name', async (req, reply) => {
    if (req.params.name !== 'orders') return reply.code(404).send({ code: 'ISTHMUS_NOT_FOUND', message: 'service shop/x is not in the catalog' });
    const healthy = req.query['healthy'] === 'true';
    const origin = req.query['origin'];
    const endpoints = ORDERS.endpoints.filter((e) => (!healthy || e.ready) && (origin === undefined || e.origin.registry === origin));
    return { ...ORDERS, endpoints };
  });
  url = await app.listen({ host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await app.close();
});

describe('status', () => {
  it('prints sources, routes, queue, held, quarantined and errors', async () => {
    const { io, out } = captureIo();
    expect(await runCli(['status', '--url', url], fakeDeps(), io)).toBe(0);
    const text = out();
    expect(text).toContain('bridge prod-east  leader (writing)  queue depth 4');
    expect(text).toMatch(/k8s\s+yes\s+yes\s+40\s+2s ago/);
    expect(text).toMatch(/nacos\s+no\s+no\s+0\s+never\s+connect ECONNREFUSED 10.0.0.5:8848/);
    expect(text).toMatch(/HELD CHANGES \(1\)\n.*\nk8s\s+shop\/pay\s+-8\s+30s\s+in 1m30s\s+would remove 80% of endpoints/);
    expect(text).toMatch(/QUARANTINED RECORDS \(1\)\n.*\nnacos\s+inst-77\s+shop\/bad\s+1m5s\s+invalid IP "10.0.0.300"/);
    expect(text).toContain('ISTHMUS_REGISTRY_REJECTED: 422 invalid port');
  });

  it('uses ISTHMUS_URL, sends the token from --token-file, and answers JSON', async () => {
    const tokenFile = join(mkdtempSync(join(tmpdir(), 'isthmus-token-')), 'token');
    writeFileSync(tokenFile, `${TOKEN}\n`);
    const { io, out } = captureIo({ env: { ISTHMUS_URL: url } });
    expect(await runCli(['status', '--token-file', tokenFile, '-o', 'json'], fakeDeps(), io)).toBe(0);
    expect(JSON.parse(out())).toEqual(STATUS);
    expect(seen.at(-1)).toEqual({ path: '/v1/status', auth: `Bearer ${TOKEN}` });
  });

  it('explains one service: endpoints with origin and health, targets with outcome and reason', async () => {
    const { io, out } = captureIo();
    expect(await runCli(['status', 'shop/orders', '--url', url], fakeDeps(), io)).toBe(0);
    const text = out();
    expect(text).toMatch(/10\.0\.0\.1\s+http:8080\s+ready\s+100\s+a\s+nacos \(10\.0\.0\.1#8080\)/);
    expect(text).toMatch(/10\.1\.0\.9\s+http:8080\s+draining\s+0\s+-\s+k8s/);
    expect(text).toMatch(/10\.1\.0\.10\s+http:8080\s+down/);
    expect(text).toMatch(/k8s\s+shop\/orders\s+nacos->k8s\s+applied\s+1\s+1s/);
    expect(text).toMatch(/consul\s+shop\/orders\s+nacos->consul\s+error\s+1\s+1s\s+ISTHMUS_REGISTRY_UNREACHABLE: timeout/);
  });

  it('says so when the service is not in the catalog', async () => {
    const { io, out } = captureIo();
    expect(await runCli(['status', 'shop/ghost', '--url', url], fakeDeps(), io)).toBe(0);
    expect(out()).toContain('not in the catalog');
    expect(out()).toContain('none: no route carries this service');
  });

  it('reports a refused token clearly, exit 1', async () => {
    const { io, err } = captureIo();
    expect(await runCli(['status', 'shop/locked', '--url', url], fakeDeps(), io)).toBe(1);
    expect(err()).toContain('refused the request (401): missing bearer token; pass --token-file');
  });
});

describe('resolve', () => {
  it('prints the endpoint table', async () => {
    const { io, out } = captureIo();
    expect(await runCli(['resolve', 'shop/orders', '--url', url], fakeDeps(), io)).toBe(0);
    expect(out()).toContain('shop/orders  revision 7  registries: k8s, nacos\nports: http=8080/http\n');
    expect(out()).toMatch(/ADDRESS\s+PORTS\s+HEALTH\s+WEIGHT\s+ZONE\s+ORIGIN\n10\.0\.0\.1\s+http:8080\s+ready/);
  });

  it('passes the filters as query parameters', async () => {
    const { io, out } = captureIo();
    expect(await runCli(['resolve', 'shop/orders', '--url', url, '--healthy', '--origin', 'nacos', '--zone', 'a', '-o', 'json'], fakeDeps(), io)).toBe(0);
    expect(seen.at(-1)?.path).toBe('/v1/services/shop/orders?healthy=true&origin=nacos&zone=a');
    expect((JSON.parse(out()) as CatalogEntry).endpoints.map((e) => e.address)).toEqual(['10.0.0.1']);
  });

  it('404 → "not found", exit 1', async () => {
    const { io, err } = captureIo();
    expect(await runCli(['resolve', 'shop/x', '--url', url], fakeDeps(), io)).toBe(1);
    expect(err()).toContain('not found: shop/x is not in the catalog');
  });

  it('an unreachable resolver gives a clear message, exit 1', async () => {
    const closed = Fastify();
    const deadUrl = await closed.listen({ host: '127.0.0.1', port: 0 });
    await closed.close();
    const { io, err } = captureIo();
    expect(await runCli(['resolve', 'shop/orders', '--url', deadUrl], fakeDeps(), io)).toBe(1);
    expect(err()).toContain(`cannot reach the Isthmus resolver at ${deadUrl}: ECONNREFUSED; is the bridge running? pass --url`);
  });

  it('rejects a malformed service name or URL, exit 2', async () => {
    for (const argv of [['resolve', 'orders'], ['resolve'], ['resolve', 'shop/orders', '--url', 'not a url'], ['status', 'a/b/c']]) {
      const { io, err } = captureIo();
      expect(await runCli(argv, fakeDeps(), io)).toBe(2);
      expect(err()).toMatch(/^error: /);
    }
  });
});
