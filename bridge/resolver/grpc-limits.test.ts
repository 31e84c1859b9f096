import { constants } from 'node:http2';
import { credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Catalog } from '../catalog/index.ts';
import type { WatchResponse } from '../../proto/gen/isthmus/v1/resolver.ts';
import { GrpcResolver } from './grpc-resolver.ts';
import type { WatchLimits } from './limits.ts';
import { ResolverClientCtor, type ResolverClient } from './testing/grpc-client.ts';
import { endpoint, FakeSource } from './testing/fixtures.ts';
import { openStalledWatches, type StalledWatches } from './testing/stalled-grpc.ts';

// Issue 15, findings 7 and 8: gRPC names are capped like HTTP's, Watch streams are counted, and
// a stream whose client stops reading holds one state at most and is reset once it stalls.


const BIG = { namespace: 'shop', name: 'big' };
const opened: { close(): void }[] = [];
let resolver: GrpcResolver | undefined;

afterEach(async () => {
  for (const o of opened.splice(0)) o.close();
  await resolver?.close(200);
  resolver = undefined;
});

/** A state of ~300 KB: far beyond an HTTP/2 stream window, so a stalled client leaves most unsent. */
function bigEndpoints(version: string) {
  const note = 'x'.repeat(100);
  return Array.from({ length: 1_500 }, (_, i) => endpoint('vm', `10.0.${i >> 8}.${i & 255}`, { metadata: { version, note } }));
}

async function setup(limits: Partial<WatchLimits> = {}) {
  const vm = new FakeSource('vm');
  vm.put(BIG, bigEndpoints('1'));
  const catalog = new Catalog([vm]);
  catalog.start();
  const slow: string[] = [];
  const r = new GrpcResolver({ catalog, limits, timing: { quietMs: 5, maxDelayMs: 20 }, onSlowConsumer: (ref) => slow.push(ref.name) });
  resolver = r;
  const port = await r.listen({ host: '127.0.0.1', port: 0 });
  const client = new ResolverClientCtor(`127.0.0.1:${port}`, credentials.createInsecure());
  opened.push(client);
  return { vm, resolver: r, port, client, slow };
}

function stalled(port: number, count: number): StalledWatches {
  const s = openStalledWatches(port, BIG, count);
  opened.push(s);
  return s;
}

const soon = (): { deadline: Date } => ({ deadline: new Date(Date.now() + 5_000) });

/** The first message of a Watch, or the error that ended it. */
function firstOf(client: ResolverClient, ref: { namespace: string; name: string }): Promise<WatchResponse | ServiceError> {
  return new Promise((resolve) => {
    const call = client.watch({ ...ref, filters: undefined, index: 0 }, new Metadata(), soon());
    call.once('data', (m: WatchResponse) => {
      resolve(m);
      call.cancel();
    });
    call.once('error', (err: ServiceError) => { resolve(err); });
  });
}

describe('gRPC name length', () => {
  it('refuses a 1 MB name with INVALID_ARGUMENT without echoing it, and the channel keeps working', async () => {
    const { client } = await setup();
    const name = 'n'.repeat(1 << 20);
    const err = await new Promise<ServiceError | null>((resolve) => {
      client.resolve({ namespace: 'shop', name, filters: undefined }, new Metadata(), soon(), (e) => { resolve(e); });
    });
    expect(err?.code).toBe(status.INVALID_ARGUMENT);
    expect(err?.details).toBe('ISTHMUS_USAGE: name is 1048576 characters long; at most 512 are accepted');
    const next = await new Promise<ServiceError | null>((resolve) => {
      client.resolve({ ...BIG, filters: undefined }, new Metadata(), soon(), (e) => { resolve(e); });
    });
    expect(next).toBeNull();
    const watched = await firstOf(client, { namespace: 'n'.repeat(513), name: 'big' });
    expect(watched).toMatchObject({ code: status.INVALID_ARGUMENT, details: 'ISTHMUS_USAGE: namespace is 513 characters long; at most 512 are accepted' });
  });
});

describe('gRPC Watch bounds', () => {
  it('refuses a Watch beyond maxWatchStreams with RESOURCE_EXHAUSTED, and admits one when a place frees', async () => {
    const { client, port, resolver: r } = await setup({ maxWatchStreams: 2 });
    const held = stalled(port, 2);
    await vi.waitFor(() => { expect(r.watchers()).toBe(2); });
    const refused = await firstOf(client, BIG);
    expect(refused).toMatchObject({
      code: status.RESOURCE_EXHAUSTED,
      details: 'ISTHMUS_TOO_MANY_WATCHES: this resolver serves at most 2 Watch streams; retry later or watch another replica',
    });
    expect(r.stats().refusedWatches).toBe(1);
    held.close();
    await vi.waitFor(() => { expect(r.watchers()).toBe(0); });
    expect(await firstOf(client, BIG)).toMatchObject({ deleted: false });
  });

  it('holds one unsent state per stalled stream whatever changes, then resets it as a slow consumer', async () => {
    const { vm, port, resolver: r, slow } = await setup({ slowConsumerMs: 1_500 });
    const held = stalled(port, 1);
    await vi.waitFor(() => { expect(r.stats().bufferedBytes).toBeGreaterThan(200_000); });
    const one = r.stats().bufferedBytes;
    for (let i = 2; i <= 5; i++) {
      vm.put(BIG, bigEndpoints(String(i)));
      await new Promise((done) => setTimeout(done, 40));
    }
    // Before, grpc-js queued each new state behind the untaken one (up to 16 per stream).
    expect(r.stats().bufferedBytes).toBe(one);
    await vi.waitFor(() => { expect(held.resets).toEqual([constants.NGHTTP2_ENHANCE_YOUR_CALM]); }, { timeout: 5_000 });
    expect(r.stats()).toMatchObject({ watchers: 0, bufferedBytes: 0, slowConsumers: 1 });
    expect(slow).toEqual(['big']);
  });

  it('lets a reading client through while stalled ones hold the whole send budget', async () => {
    // Budget of one state; pressure eviction after slowConsumerMs / 10 = 500 ms.
    const { client, port, resolver: r } = await setup({ maxBufferedBytes: 1, slowConsumerMs: 5_000 });
    const held = stalled(port, 3);
    await vi.waitFor(() => { expect(r.watchers()).toBe(3); });
    const started = Date.now();
    expect(await firstOf(client, BIG)).toMatchObject({ deleted: false });
    // The stalled holders are evicted one by one after 500 ms each: all three within less than
    // one slow-consumer time, where waiting for each one's own timeout would take 15 s.
    expect(Date.now() - started).toBeLessThan(4_500);
    expect(held.resets.length).toBeGreaterThanOrEqual(1);
    expect(held.resets.every((code) => code === constants.NGHTTP2_ENHANCE_YOUR_CALM)).toBe(true);
  });
});
