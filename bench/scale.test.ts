import { describe, expect, it } from 'vitest';
import { encodePayload } from '../adapters/nacos/proto.ts';
import { applies, checkScale } from './check.ts';
import { grpcParser, zkParser, type WireEvent } from './scale-frames.ts';
import { kubeClass } from './scale-proxy.ts';
import { renderTable, replaceBlock, BEGIN, END } from './table.ts';
import { TARGETS, type Target } from './targets.ts';

function h2Frame(type: number, flags: number, stream: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(stream, 5);
  return Buffer.concat([head, payload]);
}

function grpcMessage(type: string): Buffer {
  const body = encodePayload({ type, headers: { a: 'b' }, clientIp: '10.0.0.1', body: '{"x":1}' });
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(body.length, 1);
  return Buffer.concat([prefix, body]);
}

function zkPacket(body: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeInt32BE(body.length);
  return Buffer.concat([len, body]);
}

function zkRequest(xid: number, op: number): Buffer {
  const b = Buffer.alloc(16);
  b.writeInt32BE(xid, 0);
  b.writeInt32BE(op, 4);
  return zkPacket(b);
}

/** Feeds `bytes` in pieces of `size`, as TCP may cut them anywhere. */
function feed(parse: (c: Buffer) => WireEvent[], bytes: Buffer, size: number): WireEvent[] {
  const out: WireEvent[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(...parse(bytes.subarray(i, i + size)));
  return out;
}

describe('scale bench wire parsers', () => {
  it('reads Nacos request types out of HTTP/2 DATA frames, however the bytes are cut', () => {
    const two = Buffer.concat([grpcMessage('BatchInstanceRequest'), grpcMessage('HealthCheckRequest')]);
    const stream = Buffer.concat([
      Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1'),
      h2Frame(0x4, 0, 0, Buffer.alloc(0)), // SETTINGS
      h2Frame(0x1, 0x4, 1, Buffer.from([0x83])), // HEADERS
      h2Frame(0x0, 0, 1, two.subarray(0, 7)), // a message split over two DATA frames
      h2Frame(0x0, 0x1, 1, two.subarray(7)),
      h2Frame(0x0, 0, 3, grpcMessage('NotifySubscriberResponse')),
    ]);
    for (const size of [1, 5, 64, stream.length]) {
      expect(feed(grpcParser('client'), stream, size)).toEqual([
        { kind: 'request', cls: 'BatchInstanceRequest', write: true },
        { kind: 'request', cls: 'HealthCheckRequest', write: false },
        { kind: 'reply', cls: 'NotifySubscriberResponse', write: false },
      ]);
    }
    const pushed = h2Frame(0x0, 0, 2, grpcMessage('NotifySubscriberRequest'));
    expect(grpcParser('server')(pushed)).toEqual([{ kind: 'push', cls: 'NotifySubscriberRequest', write: false }]);
  });

  it('reads ZooKeeper op codes after the unheadered connect packet', () => {
    const stream = Buffer.concat([zkPacket(Buffer.alloc(44)), zkRequest(1, 1), zkRequest(2, 12), zkRequest(-2, 11), zkRequest(3, 2), zkRequest(4, 14)]);
    expect(feed(zkParser('client'), stream, 3).map((e) => `${e.cls}:${e.write}`)).toEqual(['connect:false', 'create:true', 'getChildren2:false', 'ping:false', 'delete:true', 'multi:true']);
    const server = Buffer.concat([zkPacket(Buffer.alloc(36)), zkRequest(-1, 0), zkRequest(5, 0)]);
    expect(zkParser('server')(server).map((e) => e.kind)).toEqual(['reply', 'push', 'reply']);
  });

  it('classes Kubernetes paths without namespaces and names', () => {
    expect(kubeClass('/api/v1/namespaces/ns-1/services/svc-3')).toBe('/api/v1/services/:name');
    expect(kubeClass('/apis/discovery.k8s.io/v1/namespaces/ns/endpointslices')).toBe('/apis/discovery.k8s.io/v1/endpointslices');
    expect(kubeClass('/api/v1/namespaces/ns-1')).toBe('/api/v1/namespaces/:name');
    expect(kubeClass('/api/v1/services')).toBe('/api/v1/services');
  });
});

describe('scale bench targets', () => {
  const rows: readonly Target[] = [
    { bench: 'scale', figure: 'a', op: '<=', limit: 1, unit: '', what: 'a' },
    { bench: 'scale', figure: 'b', op: '<=', limit: 1, unit: '', what: 'b', routes: ['k8s-nacos'] },
    { bench: 'scale', figure: 'c', op: '<=', limit: 1, unit: '', what: 'small', maxServices: 10_000 },
    { bench: 'scale', figure: 'c', op: '<=', limit: 5, unit: '', what: 'large', minServices: 10_000 },
  ];

  it('applies rows by route and by scale', () => {
    expect(applies(rows[1] as Target, { route: 'k8s-consul' })).toBe(false);
    expect(applies(rows[1] as Target, { route: 'k8s-nacos' })).toBe(true);
    expect(applies(rows[2] as Target, { services: 9_999 })).toBe(true);
    expect(applies(rows[3] as Target, { services: 9_999 })).toBe(false);
    expect(applies(rows[3] as Target, { services: 10_000 })).toBe(true);
  });

  it('checks every run, names figures by route, and fails when any run misses or failed', () => {
    const ok = checkScale([{ route: 'k8s-consul', services: 1000, a: 1, c: 1 }, { route: 'k8s-nacos', services: 10_000, a: 0, b: 1, c: 4 }], rows);
    expect(ok.pass).toBe(true);
    expect(ok.figures.map((f) => f.figure)).toEqual(['k8s-consul:a', 'k8s-consul:c', 'k8s-nacos:a', 'k8s-nacos:b', 'k8s-nacos:c']);
    expect(checkScale([{ route: 'k8s-consul', services: 1000, a: 1, c: 2 }], rows).pass).toBe(false);
    expect(checkScale([{ route: 'consul-k8s', error: 'boom' }], rows).pass).toBe(false);
    expect(checkScale([], rows).pass).toBe(false);
  });

  it('holds issue 17 targets for every route', () => {
    for (const route of ['k8s-consul', 'k8s-nacos', 'k8s-zookeeper', 'consul-k8s']) {
      const figures = TARGETS.filter((t) => t.bench === 'scale' && applies(t, { route, services: 1000 })).map((t) => t.figure);
      for (const f of ['services', 'initialSync.seconds', 'rollout.writesPerPod', 'idle.requestsPerMinute', 'bridge.peakRssMiB']) expect(figures).toContain(f);
      expect(new Set(figures).size).toBe(figures.length);
    }
  });
});

describe('README scale table', () => {
  const result = {
    date: '2026-12-05T10:00:00Z',
    machine: { cpus: 2, cpuModel: 'X', memGiB: 24, node: 'v20', loadavg1AtEnd: 2 },
    runs: [{ route: 'k8s-consul', services: 1000, endpointsPerService: 10, rollout: { pods: 100, writesPerPod: 3 }, initialSync: { seconds: 12.5 } }, { route: 'k8s-nacos', error: 'down' }],
    check: { figures: [{ figure: 'k8s-consul:rollout.writesPerPod', pass: false }] },
  };

  it('renders one column per run, marks misses and failures', () => {
    const t = renderTable([result]);
    expect(t).toContain('| figure | k8s-consul, 1,000 services | k8s-nacos |');
    expect(t).toContain('| initial sync | 12.5 s | failed |');
    expect(t).toContain('| roll: writes per pod | 3 ✗ | failed |');
    expect(t).toContain('- k8s-nacos: down');
  });

  it('checks a result saved without --check against the targets itself', () => {
    const { check: _saved, ...unchecked } = result;
    // 3 writes per rolled pod misses its 2; so do the figures the fixture lacks (a missing
    // figure is a miss), which the saved check above did not list.
    const t = renderTable([unchecked]);
    expect(t).toContain('| roll: writes per pod | 3 ✗ | failed |');
    expect(t).toContain('| initial sync | 12.5 s ✗ | failed |');
  });

  it('replaces only the block between the markers', () => {
    const readme = `a\n${BEGIN}\nold\n${END}\nb\n`;
    expect(replaceBlock(readme, 'new')).toBe(`a\n${BEGIN}\nnew\n${END}\nb\n`);
    expect(() => replaceBlock('no markers', 'x')).toThrow(/block/);
  });
});

describe('scale bench bridge process', () => {
  it('runs the bridge with the NODE_OPTIONS the image and the systemd unit ship', async () => {
    const { readFile } = await import('node:fs/promises');
    const { PRODUCTION_NODE_OPTIONS } = await import('./scale-bridge.ts');
    const dockerfile = await readFile(new URL('../Dockerfile', import.meta.url), 'utf8');
    const unit = await readFile(new URL('../deploy/systemd/isthmus.service', import.meta.url), 'utf8');
    expect(dockerfile).toMatch(new RegExp(`^ENV NODE_OPTIONS="${PRODUCTION_NODE_OPTIONS}"$`, 'm'));
    expect(unit).toMatch(new RegExp(`^Environment="NODE_OPTIONS=${PRODUCTION_NODE_OPTIONS}"$`, 'm'));
  });
});
