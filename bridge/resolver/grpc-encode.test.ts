import { describe, expect, it } from 'vitest';
import { ResolveResponse, WatchResponse, type Service } from '../../proto/gen/isthmus/v1/resolver.ts';
import { GrpcAnswers } from './grpc-encode.ts';

function service(name: string, revision: number, split: Record<string, number> = {}): Service {
  return { namespace: 'ns', name, revision, ports: [], endpoints: [], registries: ['k8s'], metadata: {}, split };
}

describe('gRPC answers encoded once per revision', () => {
  it('shares one message and its bytes between callers until the revision moves', () => {
    const answers = new GrpcAnswers();
    let builds = 0;
    const build = (rev: number) => () => { builds++; return service('a', rev); };
    const first = answers.resolve('a', 1, undefined, build(1));
    const second = answers.resolve('a', 1, undefined, build(1));
    expect(second).toBe(first);
    expect(builds).toBe(1);
    const serialize = answers.service.resolve.responseSerialize;
    expect(serialize(second)).toBe(serialize(first));
    expect(ResolveResponse.decode(serialize(first))).toEqual(first);
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
    expect(b.service?.split).toEqual({ vm: 10, k8s: 90 });
  });

  it('builds the Watch state from the same slot and sizes it by its bytes', () => {
    const answers = new GrpcAnswers();
    let builds = 0;
    const resolve = answers.resolve('a', 3, undefined, () => { builds++; return service('a', 3); });
    const watch = answers.watch('a', 3, undefined, () => { builds++; return service('a', 3); });
    expect(builds).toBe(1);
    expect(watch.service).toBe(resolve.service);
    const bytes = answers.service.watch.responseSerialize(watch);
    expect(answers.size(watch)).toBe(bytes.length);
    expect(WatchResponse.decode(bytes)).toMatchObject({ index: 3, deleted: false, service: { name: 'a' } });
    expect(WatchResponse.decode(answers.service.watch.responseSerialize(answers.deleted(7)))).toMatchObject({ index: 7, deleted: true });
  });

  it('still encodes a message it did not make', () => {
    const answers = new GrpcAnswers();
    const foreign: ResolveResponse = { service: service('x', 1) };
    expect(ResolveResponse.decode(answers.service.resolve.responseSerialize(foreign))).toEqual(foreign);
  });

  it('keeps at most maxKeys slots and about maxBytes of bytes, dropping the oldest', () => {
    const byKeys = new GrpcAnswers({ maxKeys: 2 });
    for (const k of ['a', 'b', 'c']) byKeys.resolve(k, 1, undefined, () => service(k, 1));
    expect(byKeys.stats().keys).toBe(2);
    let rebuilt = false;
    byKeys.resolve('a', 1, undefined, () => { rebuilt = true; return service('a', 1); });
    expect(rebuilt).toBe(true);

    const one = ResolveResponse.encode({ service: service('a', 1) }).finish().length;
    const byBytes = new GrpcAnswers({ maxBytes: one * 2 });
    for (const k of ['a', 'b', 'c', 'd']) byBytes.resolve(k, 1, undefined, () => service(k, 1));
    expect(byBytes.stats().bytes).toBeLessThanOrEqual(one * 2);
    expect(byBytes.stats().keys).toBe(2);
  });
});
