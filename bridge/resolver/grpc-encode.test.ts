import { describe, expect, it } from 'vitest';
import { ResolveResponse, WatchResponse, type Service } from '../../proto/gen/isthmus/v1/resolver.ts';
import { GrpcAnswers } from './grpc-encode.ts';

function service(name: string, revision: number, split: Record<string, number> = {}): Service {
  return { namespace: 'ns', name, revision, ports: [], endpoints: [], registries: ['k8s'], metadata: {}, split };
}

describe('gRPC answers encoded once per revision', () => {
  it('shares one framed answer between callers until the revision moves', () => {
    const answers = new GrpcAnswers();
    let builds = 0;
    const build = (rev: number) => () => { builds++; return service('a', rev); };
    const first = answers.resolve('a', 1, undefined, build(1));
    const second = answers.resolve('a', 1, undefined, build(1));
    expect(second).toBe(first);
    expect(builds).toBe(1);
    expect(first.readUInt32BE(1)).toBe(first.length - 5);
    expect(ResolveResponse.decode(first.subarray(5))).toEqual({ service: service('a', 1) });
    const moved = answers.resolve('a', 2, undefined, build(2));
    expect(moved).not.toBe(first);
    expect(builds).toBe(2);
    expect(answers.stats()).toMatchObject({ hits: 1, misses: 2, keys: 1 });
  });

  it('rebuilds when the split changes without a new revision', () => {
    const answers = new GrpcAnswers();
    const a = answers.resolve('a', 1, { vm: 50, k8s: 50 }, () => service('a', 1, { vm: 50, k8s: 50 }));
    expect(answers.resolve('a', 1, { k8s: 50, vm: 50 }, () => service('a', 1))).toBe(a);
    const b = answers.resolve('a', 1, { vm: 10, k8s: 90 }, () => service('a', 1, { vm: 10, k8s: 90 }));
    expect(ResolveResponse.decode(b.subarray(5)).service?.split).toEqual({ vm: 10, k8s: 90 });
  });

  it('builds the Watch state from the same slot, framed once', () => {
    const answers = new GrpcAnswers();
    let builds = 0;
    const resolve = answers.resolve('a', 3, undefined, () => { builds++; return service('a', 3); });
    const watch = answers.watch('a', 3, undefined, () => { builds++; return service('a', 3); });
    expect(builds).toBe(1);
    expect(answers.watch('a', 3, undefined, () => service('a', 3))).toBe(watch);
    expect(WatchResponse.decode(watch.subarray(5))).toMatchObject({ index: 3, deleted: false, service: ResolveResponse.decode(resolve.subarray(5)).service });
    expect(WatchResponse.decode(answers.deleted(7).subarray(5))).toMatchObject({ index: 7, deleted: true });
  });

  it('keeps at most maxKeys slots and about maxBytes of bytes, dropping the oldest', () => {
    const byKeys = new GrpcAnswers({ maxKeys: 2 });
    for (const k of ['a', 'b', 'c']) byKeys.resolve(k, 1, undefined, () => service(k, 1));
    expect(byKeys.stats().keys).toBe(2);
    let rebuilt = false;
    byKeys.resolve('a', 1, undefined, () => { rebuilt = true; return service('a', 1); });
    expect(rebuilt).toBe(true);

    const one = 5 + ResolveResponse.encode({ service: service('a', 1) }).finish().length;
    const byBytes = new GrpcAnswers({ maxBytes: one * 2 });
    for (const k of ['a', 'b', 'c', 'd']) byBytes.resolve(k, 1, undefined, () => service(k, 1));
    expect(byBytes.stats().bytes).toBeLessThanOrEqual(one * 2);
    expect(byBytes.stats().keys).toBe(2);
  });
});
