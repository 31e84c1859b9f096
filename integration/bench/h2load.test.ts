// The resolver bench's figures come from h2load against the real resolvers. h2load cannot see
// gRPC statuses, so the bench checks every answer by size: this test makes the resolver answer
// NOT_FOUND (gRPC) or 404 (HTTP/1.1) and requires the run to be refused, not counted as fast calls.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryRegistry, MemorySource } from '../../adapters/memory/index.ts';
import { haveH2load, runH2load } from '../../bench/h2load.ts';
import { grpcFrame, h2Session, h2Unary } from '../../bench/lean-clients.ts';
import { Catalog } from '../../bridge/catalog/index.ts';
import { close, createHttpResolver, GrpcResolver, listen } from '../../bridge/resolver/index.ts';
import type { StatusProvider } from '../../bridge/sync/index.ts';
import { ResolveRequest, ResolveResponse } from '../../proto/gen/isthmus/v1/resolver.ts';

const RESOLVE = '/isthmus.v1.ResolverService/Resolve';
const status: StatusProvider = {
  summary: () => ({ bridgeId: 'h2load', leader: true, sources: [], routes: [], queueDepth: 0, held: [], quarantined: [], errors: [] }),
  explain: (ref) => ({ ref, sources: [], targets: [], quarantined: [] }),
};
const request = (name: string): Buffer => grpcFrame(ResolveRequest.encode({ namespace: 'bench', name, filters: undefined }).finish());

describe('h2load against the gRPC and HTTP resolvers', () => {
  const stop = new AbortController();
  let catalog: Catalog;
  let grpc: GrpcResolver;
  let http: ReturnType<typeof createHttpResolver>;
  let target = '';
  let httpTarget = '';
  let answer: Buffer;
  let httpAnswer: Buffer;

  beforeAll(async () => {
    const registry = new MemoryRegistry();
    for (let j = 0; j < 10; j++) {
      registry.putEndpoint({ namespace: 'bench', name: 'svc-0' }, {
        address: `10.0.0.${j + 1}`, ports: { grpc: 50051 }, ready: true, serving: true, terminating: false, weight: 100, metadata: {}, origin: { registry: 'mem', nativeId: `0-${j}` },
      });
    }
    const source = new MemorySource('mem', registry);
    await source.start(stop.signal);
    catalog = new Catalog([source]);
    catalog.start();
    grpc = new GrpcResolver({ catalog });
    target = `127.0.0.1:${await grpc.listen({ host: '127.0.0.1', port: 0 })}`;
    const session = h2Session(target);
    answer = await h2Unary(session, RESOLVE, request('svc-0'));
    session.close();
    http = createHttpResolver({ catalog, status, health: () => ({ ok: true, reasons: [] }), logger: false });
    httpTarget = new URL(await listen(http, { host: '127.0.0.1', port: 0 })).host;
    const res = await fetch(`http://${httpTarget}/v1/services/bench/svc-0`, { headers: { accept: 'application/json' } });
    httpAnswer = Buffer.from(await res.arrayBuffer());
  });

  afterAll(async () => {
    await close(http);
    await grpc.close(1_000);
    catalog.stop();
    stop.abort();
  });

  it('is installed (.ci/run installs nghttp2-client)', () => {
    expect(haveH2load()).toBe(true);
  });

  it('counts correct answers and their latencies', async () => {
    expect(ResolveResponse.decode(answer.subarray(5)).service?.endpoints).toHaveLength(10);
    const r = await runH2load({ target, path: RESOLVE, protocol: 'grpc', body: request('svc-0'), answerBytes: answer.length, connections: 2, streamsPerConnection: 8, calls: 2_000 });
    expect(r.requests).toBe(2_000);
    expect(r.requestsPerSecond).toBeGreaterThan(0);
    expect(r.p99Ms).toBeGreaterThanOrEqual(r.p50Ms);
  });

  it('refuses a run whose calls answered NOT_FOUND', async () => {
    await expect(runH2load({ target, path: RESOLVE, protocol: 'grpc', body: request('no-such-service'), answerBytes: answer.length, connections: 1, streamsPerConnection: 4, calls: 200 }))
      .rejects.toThrow(/0 bytes of answers for 200 calls/);
  });

  it('counts HTTP/1.1 lookups of the HTTP resolver and their latencies', async () => {
    expect((JSON.parse(httpAnswer.toString('utf8')) as { endpoints: unknown[] }).endpoints).toHaveLength(10);
    const r = await runH2load({ target: httpTarget, path: '/v1/services/bench/svc-0', protocol: 'http1', answerBytes: httpAnswer.length, connections: 4, streamsPerConnection: 1, calls: 2_000 });
    expect(r.requests).toBe(2_000);
    expect(r.p99Ms).toBeGreaterThanOrEqual(r.p50Ms);
  });

  it('refuses an HTTP/1.1 run whose lookups answered 404', async () => {
    await expect(runH2load({ target: httpTarget, path: '/v1/services/bench/no-such-service', protocol: 'http1', answerBytes: httpAnswer.length, connections: 2, streamsPerConnection: 1, calls: 200 }))
      .rejects.toThrow(/200 failed/);
  });
});
