// The demo's Eureka-homed VM application, behaving towards Eureka as Spring Cloud Netflix's
// DiscoveryClient does: a Eureka instance is a lease, not a record, so the app registers once,
// then must heartbeat or the server evicts it (the shared test server evicts within a second of
// expiry), registers again when a heartbeat answers 404, and cancels on shutdown. Heartbeats go
// through the adapter's LeaseKeeper, the same loop the bridge keeps its exports alive with.
import { EurekaClient } from '../../adapters/eureka/client.ts';
import { DATA_CENTER } from '../../adapters/eureka/encode.ts';
import { LeaseKeeper } from '../../adapters/eureka/leases.ts';
import { appNameOf, idOf, type EurekaInstance } from '../../adapters/eureka/native.ts';
import type { EurekaConnection } from '../servers/index.ts';
import { NAMESPACE, type DemoEndpoint, type DemoService } from './topology.ts';

/**
 * Spring Cloud Netflix's defaults (eureka.instance.lease-renewal-interval-in-seconds and
 * lease-expiration-duration-in-seconds), left as they are by the harness's server: 30 s is also
 * the interval it counts renewals against (eureka.server.expected-client-renewal-interval-seconds).
 */
export const RENEW_INTERVAL_SECONDS = 30;
export const LEASE_DURATION_SECONDS = 90;

/** What a Spring Cloud Netflix app with prefer-ip-address registers (default instance id `host:app:port`). */
export function springInstance(s: DemoService, e: DemoEndpoint, dirtyAt = Date.now()): EurekaInstance {
  return {
    instanceId: `${e.address}:${s.name}:${e.port}`,
    app: appNameOf(s.name),
    hostName: e.address,
    ipAddr: e.address,
    status: 'UP',
    overriddenStatus: 'UNKNOWN',
    port: { $: e.port, '@enabled': 'true' },
    securePort: { $: 443, '@enabled': 'false' },
    vipAddress: s.name,
    secureVipAddress: s.name,
    dataCenterInfo: DATA_CENTER,
    leaseInfo: { renewalIntervalInSecs: RENEW_INTERVAL_SECONDS, durationInSecs: LEASE_DURATION_SECONDS },
    // Spring adds management.port; zone is what Spring Cloud's zone-preference reads.
    metadata: { zone: e.zone, 'management.port': String(e.port) },
    lastDirtyTimestamp: String(dirtyAt),
  };
}

export class EurekaVmApps {
  readonly #client: EurekaClient;
  readonly #leases: LeaseKeeper;
  readonly #intervalMs: number;
  readonly #stop = new AbortController();
  #started = false;

  /** `renewIntervalMs` differs from the declared 30 s only in unit tests, which cannot wait that long. */
  constructor(conn: Pick<EurekaConnection, 'baseUrl'>, renewIntervalMs = RENEW_INTERVAL_SECONDS * 1000) {
    this.#intervalMs = renewIntervalMs;
    this.#client = new EurekaClient({ registry: 'demo-vm-app', servers: [conn.baseUrl], requestTimeoutMs: 10_000 });
    this.#leases = new LeaseKeeper(this.#client, {
      intervalMs: renewIntervalMs,
      concurrency: 4,
      // Evicted (the demo paused past its lease) or a restarted server: DiscoveryClient marks
      // itself dirty and registers again, and a newer stamp is what makes the server take it.
      reregister: async (lease) => {
        const again: EurekaInstance = { ...lease.instance, lastDirtyTimestamp: String(Date.now()) };
        await this.#client.register(lease.app, again);
        return again;
      },
      // Only for leases adopted from a read; every lease here was registered by this process.
      lost: () => undefined,
    });
  }

  /** Heartbeats sent so far (tests). */
  get renewals(): number {
    return this.#client.renewals;
  }

  async register(s: DemoService): Promise<void> {
    if (!this.#started) {
      this.#leases.start(this.#stop.signal);
      this.#started = true;
    }
    for (const e of s.endpoints) {
      const instance = springInstance(s, e);
      const app = instance.app ?? appNameOf(s.name);
      await this.#client.register(app, instance);
      // Spring's first heartbeat is one interval after registering, not at a random phase.
      this.#leases.put({ namespace: NAMESPACE, name: s.name }, app, instance, true, this.#intervalMs);
    }
  }

  /** Stops the heartbeats, then cancels every lease; returns what could not be cancelled. */
  async cancelAll(): Promise<string[]> {
    this.#stop.abort();
    const leases = [...this.#leases.all()];
    for (const l of leases) this.#leases.remove(l);
    // A heartbeat in flight may be re-registering: cancelling before it lands would be undone.
    await Promise.all(leases.map((l) => l.busy ?? Promise.resolve()));
    const problems: string[] = [];
    for (const l of leases) {
      try {
        await this.#client.cancel(l.app, idOf(l.instance));
      } catch (err) {
        problems.push(`eureka ${l.app}/${idOf(l.instance)}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    return problems;
  }
}
