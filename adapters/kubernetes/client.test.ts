import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BridgeError } from '../../bridge/errors/index.ts';
import { listenLoopback, type LoopbackHttp } from '../shared/testing/loopback-http.ts';
import { KubeClient } from './client.ts';

// A stand-in API server: records each request and answers from `reply`.
interface Seen { method: string; url: string; type: string | undefined; auth: string | undefined; body: string }
let seen: Seen[] = [];
let reply: (req: IncomingMessage, res: ServerResponse) => void = (_q, res) => { res.end('{}'); };
let server: LoopbackHttp;
let base = '';

beforeAll(async () => {
  server = await listenLoopback((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', type: req.headers['content-type'], auth: req.headers.authorization, body: Buffer.concat(chunks).toString() });
      reply(req, res);
    });
  });
  base = server.base;
});
afterAll(() => server.close());

const client = (): KubeClient => KubeClient.connect({ server: base, token: 'tok' });
const status = (code: number, body: unknown) => (_q: IncomingMessage, res: ServerResponse): void => { res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(body)); };

describe('KubeClient over HTTP', () => {
  it('sends the token, the patch content types and counts writes', async () => {
    seen = [];
    reply = status(200, { metadata: { name: 'm' } });
    const c = client();
    const r = { group: 'isthmus.dev', version: 'v1alpha1', plural: 'servicemigrations' };
    await c.mergePatchCustom(r, 'ns', 'm', { spec: { a: null } });
    await c.replaceCustomStatus(r, 'ns', 'm', { ok: true });
    await c.deleteSlice({ namespace: 'ns', name: 's', uid: 'u1', resourceVersion: '7' });
    expect(c.writes).toBe(3);
    expect(seen.map((s) => [s.method, s.url, s.type, s.auth])).toEqual([
      ['PATCH', '/apis/isthmus.dev/v1alpha1/namespaces/ns/servicemigrations/m', 'application/merge-patch+json', 'Bearer tok'],
      ['PATCH', '/apis/isthmus.dev/v1alpha1/namespaces/ns/servicemigrations/m/status', 'application/json-patch+json', 'Bearer tok'],
      ['DELETE', '/apis/discovery.k8s.io/v1/namespaces/ns/endpointslices/s', 'application/json', 'Bearer tok'],
    ]);
    expect(JSON.parse(seen[2]!.body)).toEqual({ preconditions: { uid: 'u1', resourceVersion: '7' } });
  });

  it('maps statuses to BridgeErrors as before', async () => {
    const c = client();
    const codeOf = async (code: number, body: unknown = { kind: 'Status', message: 'no' }): Promise<[string, boolean]> => {
      reply = status(code, body);
      const err = (await c.createService({ metadata: { namespace: 'ns', name: 'x' } }).catch((e: unknown) => e)) as BridgeError;
      return [err.code, err.terminal];
    };
    expect(await codeOf(401)).toEqual(['ISTHMUS_REGISTRY_AUTH', false]);
    expect(await codeOf(403)).toEqual(['ISTHMUS_REGISTRY_AUTH', false]);
    expect(await codeOf(409)).toEqual(['ISTHMUS_REGISTRY_CONFLICT', false]);
    expect(await codeOf(422)).toEqual(['ISTHMUS_REGISTRY_REJECTED', true]);
    expect(await codeOf(404)).toEqual(['ISTHMUS_REGISTRY_REJECTED', false]);
    expect(await codeOf(500)).toEqual(['ISTHMUS_REGISTRY_UNREACHABLE', false]);
    reply = status(404, { kind: 'Status', details: { name: 'x', kind: 'services' } });
    expect(await c.getService('ns', 'x')).toBeUndefined();
    await expect(c.deleteService({ namespace: 'ns', name: 'x' })).resolves.toBeUndefined();
    reply = status(409, { kind: 'Status' });
    await expect(c.createNamespace('ns', {})).resolves.toBeUndefined();
    reply = (_q, res) => { res.writeHead(404).end('404 page not found'); };
    const err = (await c.list({ group: 'g', version: 'v', plural: 'p' }, undefined).catch((e: unknown) => e)) as BridgeError;
    expect(err.details).toEqual({ status: 404, notFound: 'resource' });
    expect(err.message).toBe('kubernetes: list p.g: HTTP 404: 404 page not found');
  });

  it('watches with bookmarks, delivers events, and calls done once with null on abort', async () => {
    seen = [];
    let open: ServerResponse | undefined;
    reply = (_q, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(`${JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'a' } } })}\n{"type":"BOOK`);
      res.write(`MARK","object":{"metadata":{"resourceVersion":"9"}}}\nnot json\n`);
      open = res;
    };
    const events: unknown[] = [];
    const dones: unknown[] = [];
    const h = await client().watch('services', 'ns', '5', (type, obj) => events.push([type, obj]), (err) => dones.push(err), 'a=b');
    await new Promise((r) => setTimeout(r, 50));
    const url = new URL(seen[0]!.url, base);
    expect(url.pathname).toBe('/api/v1/namespaces/ns/services');
    expect(Object.fromEntries(url.searchParams)).toMatchObject({ watch: 'true', resourceVersion: '5', allowWatchBookmarks: 'true', labelSelector: 'a=b' });
    expect(events).toEqual([['ADDED', { metadata: { name: 'a' } }], ['BOOKMARK', { metadata: { resourceVersion: '9' } }]]);
    h.abort();
    h.abort();
    open?.end();
    await new Promise((r) => setTimeout(r, 20));
    expect(dones).toEqual([null]);
  });

  it('a refused watch calls done once with the status (410 for an expired version)', async () => {
    reply = status(410, { kind: 'Status', code: 410 });
    const dones: unknown[] = [];
    await client().watch('nodes', undefined, '1', () => undefined, (err) => dones.push(err));
    expect(dones).toHaveLength(1);
    expect((dones[0] as { statusCode: number }).statusCode).toBe(410);
  });

  it('a watch ended by the server calls done(null); a refused connection done(error)', async () => {
    reply = (_q, res) => { res.writeHead(200).end(); };
    const dones: unknown[] = [];
    await client().watch('nodes', undefined, '1', () => undefined, (err) => dones.push(err));
    await new Promise((r) => setTimeout(r, 20));
    expect(dones).toEqual([null]);
    const gone: unknown[] = [];
    await KubeClient.connect({ server: 'http://127.0.0.1:1' }).watch('nodes', undefined, '1', () => undefined, (err) => gone.push(err));
    expect(gone).toHaveLength(1);
    expect(gone[0]).toBeInstanceOf(Error);
  });

  it('an exec plugin token refused with 401 is fetched again once, through a kubeconfig', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'isthmus-transport-'));
    try {
      // Each run hands out the next token (tok1, tok2…); the server only takes tok2.
      writeFileSync(join(dir, 'plugin.mjs'), `import { readFileSync, writeFileSync } from 'node:fs';
const f = ${JSON.stringify(join(dir, 'n'))}; let n = 0; try { n = Number(readFileSync(f, 'utf8')); } catch {}
writeFileSync(f, String(++n));
process.stdout.write(JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1beta1', kind: 'ExecCredential', status: { token: 'tok' + n } }));`);
      writeFileSync(join(dir, 'config'), JSON.stringify({
        clusters: [{ name: 'c', cluster: { server: base } }],
        users: [{ name: 'u', user: { exec: { apiVersion: 'client.authentication.k8s.io/v1beta1', command: process.execPath, args: [join(dir, 'plugin.mjs')] } } }],
        contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
        'current-context': 'x',
      }));
      seen = [];
      reply = (q, res) => { if (q.headers.authorization === 'Bearer tok2') status(200, { items: [], metadata: { resourceVersion: '3' } })(q, res); else status(401, { kind: 'Status' })(q, res); };
      const c = KubeClient.connect({ kubeconfig: join(dir, 'config') });
      expect(await c.list('nodes', undefined)).toEqual({ items: [], resourceVersion: '3' });
      expect(await c.list('nodes', undefined)).toEqual({ items: [], resourceVersion: '3' });
      expect(seen.map((s) => s.auth)).toEqual(['Bearer tok1', 'Bearer tok2', 'Bearer tok2']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
