// How long exported instances outlive a bridge that stops renewing (it died, or was stopped and
// no replica took over), measured on a private Eureka with the server's own timings (90 s lease,
// 60 s eviction tick, 30 s read-only response cache) and self-preservation off — with it on, a
// registry this small never expires anything (see eureka.guard.test.ts and the README).
// Slow (≈ 4–5 min): run on its own with ISTHMUS_EUREKA_SLOW=1.
import { setMaxListeners } from 'node:events';
import { afterAll, describe, expect, it } from 'vitest';
import { createEurekaSink } from '../../adapters/eureka/index.ts';
import type { Endpoint } from '../../bridge/model/index.ts';
import { applyDesired } from '../../bridge/ports/index.ts';
import { startPrivateEureka, type PrivateEureka } from '../servers/index.ts';
import { NativeEureka, ctx, eurekaOptions, runId } from './eureka-support.ts';

const slow = process.env.ISTHMUS_EUREKA_SLOW === '1';

function ep(i: number): Endpoint {
  return { address: `10.84.0.${i}`, ports: { http: 8080 }, ready: true, serving: true, terminating: false, weight: 100, metadata: {}, origin: { registry: 'k8s', nativeId: `p${i}` } };
}

describe.skipIf(!slow)('eureka: leases of a bridge that stopped renewing (default server timings)', () => {
  const servers: PrivateEureka[] = [];
  afterAll(async () => { await Promise.all(servers.map((s) => s.stop())); });

  it('expire after about 2 × lease duration plus the eviction tick and the response cache', async () => {
    const server = await startPrivateEureka({ properties: { 'eureka.server.enable-self-preservation': 'false' } });
    servers.push(server);
    const native = new NativeEureka(server.baseUrl);
    const ref = { namespace: 'default', name: `lease-${runId()}` };
    const abort = new AbortController();
    setMaxListeners(16, abort.signal);
    const sink = createEurekaSink(eurekaOptions(server.baseUrl), ctx('eureka', 'lease-bridge'));
    await sink.start(abort.signal);
    await applyDesired(sink, { ref, ports: [{ name: 'http', port: 8080 }], endpoints: [ep(1), ep(2), ep(3)], metadata: {}, origin: 'k8s' });
    // Renew once more, as a running bridge would, then stop: the bridge "dies" right after.
    await new Promise((r) => setTimeout(r, 31_000));
    const lastRenew = Date.now();
    abort.abort();
    let seenGone = 0;
    for (;;) {
      const left = (await native.list(ref)).length;
      if (left === 0) {
        seenGone = Date.now();
        break;
      }
      if (Date.now() - lastRenew > 400_000) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    const seconds = Math.round((seenGone - lastRenew) / 1000);
    console.log(JSON.stringify({ figure: 'eureka-lease-expiry-after-bridge-stopped-s', seconds, lease: 90, evictionTick: 60, responseCache: 30 }));
    expect(seenGone).toBeGreaterThan(0);
    expect(seconds).toBeGreaterThan(90);
  }, 600_000);
});
