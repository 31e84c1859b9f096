import { Counter, Gauge, type Registry } from 'prom-client';

export type Transport = 'http' | 'grpc';

/** What a resolver counts on its own (resolver/traffic.ts), read at every scrape. */
export interface ResolverTraffic {
  readonly watchers: number;
  readonly requests: { readonly requests: number; readonly clientErrors: number; readonly serverErrors: number };
}

export interface ResolverMetrics {
  /** Publishes one resolver's counts under `transport`; a second call for it replaces the first. */
  track(transport: Transport, read: () => ResolverTraffic): void;
}

/**
 * `isthmus_resolver_requests_total{transport,outcome}` and `isthmus_resolver_watchers{transport}`.
 * The resolvers keep plain numbers on their hot path; the counter only catches up with them in
 * `collect()`, adding what was counted since the last scrape, so it stays monotonic as Prometheus
 * expects while nothing here runs per request.
 */
export function registerResolverMetrics(registers: Registry[]): ResolverMetrics {
  const readers = new Map<Transport, () => ResolverTraffic>();
  const published = new Map<string, number>();

  new Counter({
    name: 'isthmus_resolver_requests_total',
    help: 'Resolver requests (HTTP requests, gRPC calls; a Watch counts when it opens), by transport and outcome.',
    labelNames: ['transport', 'outcome'] as const,
    registers,
    collect() {
      for (const [transport, read] of readers) {
        const { requests, clientErrors, serverErrors } = read().requests;
        const outcomes = { ok: requests - clientErrors - serverErrors, client_error: clientErrors, server_error: serverErrors };
        for (const [outcome, total] of Object.entries(outcomes)) {
          const key = `${transport}/${outcome}`;
          // An error is classed when answered, a request when it arrives: for a moment the ok
          // figure can dip by the requests in flight, which a counter must not show.
          const delta = total - (published.get(key) ?? 0);
          if (delta > 0) published.set(key, total);
          this.inc({ transport, outcome }, Math.max(delta, 0));
        }
      }
    },
  });
  new Gauge({
    name: 'isthmus_resolver_watchers',
    help: 'Open watches: HTTP long-polls and event streams, gRPC Watch streams.',
    labelNames: ['transport'] as const,
    registers,
    collect() {
      for (const [transport, read] of readers) this.set({ transport }, read().watchers);
    },
  });

  return {
    track(transport, read) {
      readers.set(transport, read);
    },
  };
}
