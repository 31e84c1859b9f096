import { describe, expect, inject, it } from 'vitest';
import { uniqueName } from './unique.ts';

const conn = inject('isthmusServers').nacos;

interface V2Reply<T> {
  code: number;
  message: string;
  data: T;
}

interface InstanceList {
  name: string;
  hosts: { ip: string; port: number; healthy: boolean; ephemeral: boolean; metadata: Record<string, string> }[];
}

describe.skipIf(conn === undefined)('nacos (real server)', () => {
  it('registers and lists an instance through the v2 open API', async () => {
    const base = conn!.baseUrl;
    // A unique namespace-free name keeps reruns against a long-lived server apart.
    const serviceName = uniqueName('isthmus-smoke');
    const groupName = 'ISTHMUS_SMOKE';
    const form = new URLSearchParams({
      serviceName,
      groupName,
      ip: '10.0.0.8',
      port: '9090',
      // Persistent: an ephemeral instance registered over HTTP expires without heartbeats.
      ephemeral: 'false',
      metadata: JSON.stringify({ owner: 'isthmus' }),
    });
    const registered = await fetch(`${base}/v2/ns/instance`, { method: 'POST', body: form });
    expect(registered.status).toBe(200);
    expect(((await registered.json()) as V2Reply<string>).code).toBe(0);

    const query = new URLSearchParams({ serviceName, groupName });
    await expect
      .poll(
        async () => {
          const reply = (await (await fetch(`${base}/v2/ns/instance/list?${query.toString()}`)).json()) as V2Reply<InstanceList>;
          return reply.data.hosts.map((h) => ({ ip: h.ip, port: h.port, ephemeral: h.ephemeral, metadata: h.metadata }));
        },
        { timeout: 10_000 },
      )
      .toEqual([{ ip: '10.0.0.8', port: 9090, ephemeral: false, metadata: { owner: 'isthmus' } }]);

    const removed = await fetch(`${base}/v2/ns/instance?${new URLSearchParams({ ...Object.fromEntries(query), ip: '10.0.0.8', port: '9090', ephemeral: 'false' }).toString()}`, {
      method: 'DELETE',
    });
    expect(removed.status).toBe(200);
  });
});
