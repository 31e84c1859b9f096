// The resolver bench's gRPC figure comes from h2load against the real GrpcResolver. h2load cannot
// see gRPC statuses, so the bench checks every answer by size: this test makes the resolver
// answer NOT_FOUND and requires the run to be refused, not counted as fast calls.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryRegistry, MemorySource } from '../../adapters/memory/index.ts';
import { haveH2load, runH2load } from '../../bench/h2load.ts';
import { grpcFrame, h2Session, h2Unary } from '../../bench/lean-clients.ts';
import { Catalog } from '../../bridge/catalog/index.ts';
import { GrpcResolver } from '../../bridge/resolver/index.ts';
import { ResolveRequest, ResolveResponse } from '../../proto/gen/isthmus/v1/resolver.ts';

const RESOLVE = '/isthmus.v1.ResolverService/Resolve';
const request = (name: string): Buffer => grpcFrame(ResolveRequest.encode({ namespace: 'bench', name, filters: undefined }).finish());

describe('h2load against the gRPC resolver', () => {
  const stop = new AbortController();
  let catalog: Catalog;
  let grpc: GrpcResolver;
  let target = '';
  let answer: Buffer;

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
  });

  afterAll(async () => {
    await grpc.close(1_000);
    catalog.stop();
    stop.abort();
  });

  it('is installed (.ci/run installs nghttp2-client)', () => {
    expect(haveH2load()).toBe(true);
  });

  it('counts correct answers and their latencies', async () => {
    expect(ResolveResponse.decode(answer.subarray(5)).service?.endpoints).toHaveLength(10);
    const r = await runH2load({ target, path: RESOLVE, body: request('svc-0'), answerBytes: answer.length, connections: 2, streamsPerConnection: 8, calls: 2_000 });
    expect(r.requests).toBe(2_000);
    expect(r.requestsPerSecond).toBeGreaterThan(0);
    expect(r.p99Ms).toBeGreaterThanOrEqual(r.p50Ms);
  });

  it('refuses a run whose calls answered NOT_FOUND', async () => {
    await expect(runH2load({ target, path: RESOLVE, body: request('no-such-service'), answerBytes: answer.length, connections: 1, streamsPerConnection: 4, calls: 200 }))
      .rejects.toThrow(/0 bytes of answers for 200 calls/);
  });
});
