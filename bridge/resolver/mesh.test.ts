import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { GrpcTransport } from '../../sdk/grpc-transport.ts';
import { Catalog, type CatalogEntry } from '../catalog/index.ts';
import { DEFAULT_POLICY, toDns1035, type Route, type ServicePort } from '../model/index.ts';
import { GrpcResolver } from './grpc-resolver.ts';
import { createHttpResolver } from './http-resolver.ts';
import { MESH_METADATA_KEY, meshNaming, type MeshNaming } from './mesh.ts';
import { endpoint, fakeStatus, FakeSource } from './testing/fixtures.ts';
import { viewEntry } from './view.ts';

const POD_PORTS: ServicePort[] = [{ name: 'http', port: 80 }];

function route(from: string, to: string, extra: Partial<Route> = {}): Route {
  return { id: `${from}->${to}`, from: [from], to, select: {}, map: {}, policy: DEFAULT_POLICY, ...extra };
}

function entry(name: string, registries: string[], extra: Partial<CatalogEntry> = {}): CatalogEntry {
  return {
    ref: { namespace: 'Shop', name },
    revision: 3,
    ports: [{ name: 'http', port: 8080 }],
    endpoints: [endpoint('consul', '192.168.1.5', { ports: { http: 8080, admin: 9090 } })],
    registries,
    metadata: { team: 'orders' },
    ...extra,
  };
}

const naming = (routes: Route[], listed: Record<string, readonly ServicePort[]> = {}): MeshNaming =>
  meshNaming({
    kubernetes: new Map([['k8s', { clusterDomain: 'cluster.local' }], ['east', { clusterDomain: 'east.example' }]]),
    routes,
    portsIn: (registry, ref) => listed[`${registry}:${ref.name}`],
  });

describe('mesh names', () => {
  it('names a Service a Kubernetes registry lists by itself, with that Service ports', () => {
    const mesh = naming([], { 'k8s:orders': POD_PORTS });
    // `Shop` is no DNS label: converted as the sink converts it, so the name is the Service's.
    expect(mesh(entry('orders', ['consul', 'k8s']))).toEqual({ registry: 'k8s', host: `orders.${toDns1035('Shop')}.svc.cluster.local`, ports: POD_PORTS });
    expect(toDns1035('Shop')).toMatch(/^shop-[0-9a-f]{6}$/);
  });

  it('names a VM-only service by the route that writes it to Kubernetes, with its mapping and domain', () => {
    const mesh = naming([route('consul', 'nacos'), route('consul', 'east', { map: { namespace: 'legacy', prefix: 'vm-' } })]);
    const target = mesh(entry('Orders_API', ['consul']));
    expect(target?.registry).toBe('east');
    expect(target?.host).toMatch(/^vm-orders-api-[0-9a-f]{6}\.legacy\.svc\.east\.example$/);
    // The service's ports, then instance ports under new names: what the sink gives the Service.
    expect(target?.ports).toEqual([{ name: 'http', port: 8080 }, { name: 'admin', port: 9090 }]);
  });

  it('has no name for a service no Kubernetes registry has or gets', () => {
    const mesh = naming([route('consul', 'nacos'), route('consul', 'k8s', { select: { services: ['billing'] } }), route('eureka', 'k8s')]);
    expect(mesh(entry('orders', ['consul']))).toBeUndefined();
  });
});

describe('the mesh view of an entry', () => {
  const mesh = naming([route('consul', 'k8s')]);
  const down = endpoint('consul', '192.168.1.6', { ready: false, serving: false });

  it('answers one endpoint, the Service name, ready while any instance is', () => {
    const e = entry('orders', ['consul'], { endpoints: [endpoint('consul', '192.168.1.5'), down] });
    const view = viewEntry(e, { healthy: false, mesh: true }, mesh);
    expect(view.revision).toBe(3);
    expect(view.registries).toEqual(['consul']);
    expect(view.endpoints).toEqual([
      expect.objectContaining({ address: `orders.${toDns1035('Shop')}.svc.cluster.local`, ports: { http: 8080 }, ready: true, metadata: { [MESH_METADATA_KEY]: 'true' } }),
    ]);
    expect(viewEntry({ ...e, endpoints: [down] }, { healthy: false, mesh: true }, mesh).endpoints[0]).toMatchObject({ ready: false, serving: false });
  });

  it('applies the other filters first: nothing left, no endpoint', () => {
    const e = entry('orders', ['consul'], { endpoints: [down] });
    expect(viewEntry(e, { healthy: true, mesh: true }, mesh).endpoints).toEqual([]);
    expect(viewEntry(e, { healthy: false, mesh: true, zone: 'nowhere' }, mesh).endpoints).toEqual([]);
  });

  it('keeps the instances of a service without a mesh name, and without mesh mode', () => {
    const e = entry('orders', ['consul']);
    expect(viewEntry(e, { healthy: false, mesh: true }, naming([]))).toEqual(e);
    expect(viewEntry(e, { healthy: false, mesh: false }, mesh)).toEqual(e);
  });
});

describe('mesh mode over HTTP and gRPC', () => {
  let app: FastifyInstance | undefined;
  let grpc: GrpcResolver | undefined;
  let transport: GrpcTransport | undefined;
  afterEach(async () => {
    transport?.close();
    await grpc?.close();
    await app?.close();
  });

  function setup(): { catalog: Catalog; consul: FakeSource; mesh: MeshNaming } {
    const consul = new FakeSource('consul');
    consul.put({ namespace: 'shop', name: 'orders' }, [endpoint('consul', '192.168.1.5'), endpoint('consul', '192.168.1.6')]);
    const catalog = new Catalog([consul]);
    catalog.start();
    return { catalog, consul, mesh: naming([route('consul', 'k8s')]) };
  }

  it('answers the Service name for ?mesh=true and instances otherwise, each cached apart', async () => {
    const { catalog, consul, mesh } = setup();
    app = createHttpResolver({ catalog, status: fakeStatus, health: () => ({ ok: true, reasons: [] }), mesh });
    const get = async (q: string) => (await app?.inject(`/v1/services/shop/orders${q}`))?.json<CatalogEntry>();
    expect((await get('?mesh=true'))?.endpoints.map((e) => e.address)).toEqual(['orders.shop.svc.cluster.local']);
    expect((await get(''))?.endpoints.map((e) => e.address)).toEqual(['192.168.1.5', '192.168.1.6']);
    expect((await app.inject('/v1/services/shop/orders?mesh=maybe')).statusCode).toBe(400);
    consul.put({ namespace: 'shop', name: 'orders' }, [endpoint('consul', '192.168.1.5', { ready: false, serving: false })]);
    expect((await get('?mesh=true&healthy=true'))?.endpoints).toEqual([]);
    expect((await get('?mesh=true'))?.endpoints).toMatchObject([{ address: 'orders.shop.svc.cluster.local', ready: false }]);
  });

  it('answers the Service name to a gRPC Resolve with filters.mesh, through the SDK', async () => {
    const { catalog, mesh } = setup();
    grpc = new GrpcResolver({ catalog, mesh });
    const port = await grpc.listen({ host: '127.0.0.1', port: 0 });
    transport = new GrpcTransport({ address: `127.0.0.1:${port}` });
    const meshed = await transport.resolve({ namespace: 'shop', name: 'orders' }, { mesh: true });
    expect(meshed?.endpoints).toEqual([expect.objectContaining({ address: 'orders.shop.svc.cluster.local', ports: { http: 8080 }, ready: true, origin: 'k8s' })]);
    const plain = await transport.resolve({ namespace: 'shop', name: 'orders' });
    expect(plain?.endpoints.map((e) => e.address)).toEqual(['192.168.1.5', '192.168.1.6']);
  });
});
