// The Istio CRD helper: fetched through the Go module proxy (or the cache), installed into the
// harness apiserver idempotently, and really validating: a WorkloadEntry without an address is
// refused by the server, a minimal valid one is accepted.
import { deflateRawSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, cleanupNamespace, kubeEnv, testNamespace } from '../adapters/kubernetes-env.ts';
import { escapeModulePath, goProxy, istioCrds } from './crds.ts';
import { installIstioCrds } from './install.ts';
import { readZipEntry, zipEntries } from './zip.ts';

/** A two-entry zip (one stored, one deflated) built by hand, to pin the reader's parsing. */
function tinyZip(): Buffer {
  const files = [
    { name: 'm@v1/a.txt', data: Buffer.from('plain'), method: 0 },
    { name: 'm@v1/kubernetes/b.yaml', data: Buffer.from('kind: X\n'.repeat(20)), method: 8 },
  ];
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const f of files) {
    const body = f.method === 8 ? deflateRawSync(f.data) : f.data;
    const name = Buffer.from(f.name);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(f.method, 8);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(f.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(f.method, 10);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(f.data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, body);
    centrals.push(central, name);
    offset += 30 + name.length + body.length;
  }
  const dir = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(dir.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, dir, end]);
}

describe('istio CRD helper (pure parts)', () => {
  it('reads stored and deflated zip entries by suffix', () => {
    const zip = tinyZip();
    expect(zipEntries(zip)).toEqual(['m@v1/a.txt', 'm@v1/kubernetes/b.yaml']);
    expect(readZipEntry(zip, '/a.txt')?.toString()).toBe('plain');
    expect(readZipEntry(zip, '/kubernetes/b.yaml')?.toString()).toBe('kind: X\n'.repeat(20));
    expect(readZipEntry(zip, '/missing')).toBeUndefined();
    expect(() => readZipEntry(Buffer.from('not a zip at all, clearly not one'), 'x')).toThrow(/not a zip/);
  });

  it('picks the first proxy URL of GOPROXY and escapes module paths', () => {
    expect(goProxy(undefined)).toBe('https://proxy.golang.org');
    expect(goProxy('direct')).toBe('https://proxy.golang.org');
    expect(goProxy('off|https://goproxy.example/,direct')).toBe('https://goproxy.example');
    expect(escapeModulePath('github.com/Azure/go-autorest')).toBe('github.com/!azure/go-autorest');
  });
});

const env = kubeEnv();

describe.skipIf(env === undefined)('istio CRDs in the harness apiserver', () => {
  const e = env!;
  let ns = '';
  beforeAll(async () => {
    ns = await testNamespace(e, 'istio-crds');
  });
  afterAll(async () => {
    await api(e, 'DELETE', `/apis/networking.istio.io/v1/namespaces/${ns}/workloadentries`);
    await cleanupNamespace(e, ns);
  });

  it('installs idempotently and the types list with 200', async () => {
    const crds = await istioCrds();
    expect(crds.map((c) => (c['metadata'] as { name: string }).name)).toContain('workloadentries.networking.istio.io');
    await installIstioCrds(e);
    const again = await installIstioCrds(e);
    expect(again.created).toEqual([]);
    expect(again.replaced).toEqual([]);
    expect(again.unchanged.length).toBe(crds.length);
    expect((await api(e, 'GET', `/apis/networking.istio.io/v1/namespaces/${ns}/workloadentries`)).status).toBe(200);
  });

  it('validates server-side: a bad object is refused, a good one accepted', async () => {
    const path = `/apis/networking.istio.io/v1/namespaces/${ns}/workloadentries`;
    const good = { apiVersion: 'networking.istio.io/v1', kind: 'WorkloadEntry', metadata: { name: 'vm-1' }, spec: { address: '10.1.2.3', ports: { http: 8080 } } };
    // A port number out of range breaks the CRD's schema (maximum 4294967295 is uint32; the
    // CEL rule limits ports to 1–65535).
    const bad = { ...good, metadata: { name: 'vm-2' }, spec: { address: '10.1.2.4', ports: { http: 70000 } } };
    expect((await api(e, 'POST', `${path}?dryRun=All`, bad)).status).toBe(422);
    expect((await api(e, 'POST', `${path}?dryRun=All`, good)).status).toBe(201);
    expect((await api(e, 'POST', path, good)).status).toBe(201);
  });
});
