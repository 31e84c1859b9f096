import Consul from 'consul';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { uniqueName } from './unique.ts';

const conn = inject('isthmusServers').consul;

interface HealthEntry {
  Service: { ID: string; Service: string; Address: string; Port: number; Meta: Record<string, string> };
}

describe.skipIf(conn === undefined)('consul (real server)', () => {
  const consul = new Consul({ host: conn?.host ?? '127.0.0.1', port: conn?.port ?? 8500 });
  const service = uniqueName('isthmus-smoke');
  const id = `${service}-1`;

  afterAll(async () => {
    await consul.agent.service.deregister(id);
  });

  it('registers a service and sees it through a blocking health query', async () => {
    // consul.watch issues blocking queries (?index=<X-Consul-Index>&wait=...), so the second
    // "change" only arrives once the catalog index moves past our registration.
    const watch = consul.watch({ method: consul.health.service.bind(consul.health), options: { service, wait: '5s' } });
    try {
      const snapshots: HealthEntry[][] = [];
      const seen = new Promise<HealthEntry[]>((resolve, reject) => {
        watch.on('change', (data: HealthEntry[]) => {
          snapshots.push(data);
          if (data.length > 0) resolve(data);
        });
        watch.on('error', reject);
      });
      // Register only after the first (empty) answer, so the result must come from a wake-up.
      await expect.poll(() => snapshots.length, { timeout: 10_000 }).toBeGreaterThan(0);
      expect(snapshots[0]).toEqual([]);

      await consul.agent.service.register({ name: service, id, address: '10.0.0.7', port: 8080, tags: ['smoke'], meta: { owner: 'isthmus' } });

      const entries = await seen;
      expect(entries).toHaveLength(1);
      expect(entries[0]!.Service).toMatchObject({ ID: id, Service: service, Address: '10.0.0.7', Port: 8080, Meta: { owner: 'isthmus' } });
    } finally {
      watch.end();
    }
  });
});
