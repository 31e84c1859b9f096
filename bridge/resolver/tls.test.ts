import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Catalog } from '../catalog/index.ts';
import { GrpcTransport } from '../../sdk/grpc-transport.ts';
import { GrpcResolver } from './grpc-resolver.ts';
import { close, createHttpResolver, listen } from './http-resolver.ts';
import { endpoint, fakeStatus, FakeSource } from './testing/fixtures.ts';
import { readTlsFiles } from './tls.ts';

// A throwaway self-signed certificate for 127.0.0.1 (openssl from the OS, as on every CI image).
const dir = mkdtempSync(join(tmpdir(), 'isthmus-tls-'));
const certFile = join(dir, 'tls.crt');
const keyFile = join(dir, 'tls.key');
execFileSync('openssl', [
  'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
  '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', keyFile, '-out', certFile,
], { stdio: 'ignore' });

const source = new FakeSource('vm');
const catalog = new Catalog([source]);
catalog.start();
source.put({ namespace: 'shop', name: 'orders' }, [endpoint('vm', '10.0.0.1')]);
const tls = readTlsFiles({ certFile, keyFile });
const http = createHttpResolver({ catalog, status: fakeStatus, health: () => ({ ok: true, reasons: [] }), tls, auth: { token: 't' } });
const grpc = new GrpcResolver({ catalog, tls, auth: { token: 't' } });
let url = '';
let port = 0;

beforeAll(async () => {
  url = await listen(http, { host: '127.0.0.1', port: 0 });
  port = await grpc.listen({ host: '127.0.0.1', port: 0 });
});
afterAll(async () => {
  await close(http);
  await grpc.close(500);
});

function get(path: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { ca: readFileSync(certFile), headers }, (res) => { res.resume(); resolve(res.statusCode ?? 0); });
    req.on('error', reject);
    req.end();
  });
}

describe('resolver TLS', () => {
  it('serves HTTPS with the configured certificate; probes stay open, /v1 needs the token', async () => {
    expect(url.startsWith('https://')).toBe(true);
    expect(await get('/livez')).toBe(200);
    expect(await get('/v1/services')).toBe(401);
    expect(await get('/v1/services', { authorization: 'Bearer t' })).toBe(200);
  });

  it('serves gRPC over TLS to a client that trusts the certificate', async () => {
    const t = new GrpcTransport({ address: `127.0.0.1:${port}`, token: 't', tlsCa: readFileSync(certFile) });
    const svc = await t.resolve({ namespace: 'shop', name: 'orders' });
    t.close();
    expect(svc?.endpoints.map((e) => e.address)).toEqual(['10.0.0.1']);
  });

  it('names the file when the certificate cannot be read', () => {
    expect(() => readTlsFiles({ certFile: join(dir, 'missing.crt'), keyFile })).toThrow(/missing\.crt/);
  });
});
