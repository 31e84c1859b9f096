import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { registerResolverMetrics, type ResolverTraffic } from './resolver-metrics.ts';

function traffic(requests: number, clientErrors: number, serverErrors: number, watchers = 0): ResolverTraffic {
  return { watchers, requests: { requests, clientErrors, serverErrors } };
}

describe('isthmus_resolver_requests_total and isthmus_resolver_watchers', () => {
  it('publishes the resolvers\' plain counts by transport and outcome at each scrape', async () => {
    const registry = new Registry();
    const metrics = registerResolverMetrics([registry]);
    let http = traffic(100, 7, 2, 3);
    metrics.track('http', () => http);
    metrics.track('grpc', () => traffic(40, 1, 0, 5));
    const first = await registry.metrics();
    expect(first).toContain('isthmus_resolver_requests_total{transport="http",outcome="ok"} 91');
    expect(first).toContain('isthmus_resolver_requests_total{transport="http",outcome="client_error"} 7');
    expect(first).toContain('isthmus_resolver_requests_total{transport="http",outcome="server_error"} 2');
    expect(first).toContain('isthmus_resolver_requests_total{transport="grpc",outcome="ok"} 39');
    expect(first).toContain('isthmus_resolver_requests_total{transport="grpc",outcome="server_error"} 0');
    expect(first).toContain('isthmus_resolver_watchers{transport="http"} 3');
    expect(first).toContain('isthmus_resolver_watchers{transport="grpc"} 5');

    http = traffic(250, 7, 4, 0);
    const second = await registry.metrics();
    expect(second).toContain('isthmus_resolver_requests_total{transport="http",outcome="ok"} 239');
    expect(second).toContain('isthmus_resolver_requests_total{transport="http",outcome="server_error"} 4');
    expect(second).toContain('isthmus_resolver_watchers{transport="http"} 0');
  });

  it('never lets a counter go down while failures in flight are classed after their request', async () => {
    const registry = new Registry();
    const metrics = registerResolverMetrics([registry]);
    let http = traffic(10, 0, 0);
    metrics.track('http', () => http);
    expect(await registry.metrics()).toContain('outcome="ok"} 10');
    // Two of those ten turned out to fail: ok would read 8 if it were set rather than added.
    http = traffic(10, 2, 0);
    const dipped = await registry.metrics();
    expect(dipped).toContain('outcome="ok"} 10');
    expect(dipped).toContain('outcome="client_error"} 2');
    http = traffic(15, 2, 0);
    expect(await registry.metrics()).toContain('outcome="ok"} 13');
  });
});
