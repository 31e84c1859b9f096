// The scale bench times Consul → Kubernetes changes by this watch; against the real apiserver it
// must see slices of its service added, changed and deleted after the LIST it started from,
// ignore other services' slices, and fail rather than wait forever.
import { randomBytes } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { SliceWatch } from '../../bench/slice-watch.ts';
import { Kube } from '../drill/kube.ts';
import { cleanupNamespace, createNamespace } from '../drill/pods.ts';
import type {} from '../servers/provided-context.ts';

const k8s = inject('isthmusServers').kubernetes;

function slice(name: string, service: string, addresses: readonly string[], resourceVersion?: string): Record<string, unknown> {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name, labels: { 'kubernetes.io/service-name': service }, ...(resourceVersion === undefined ? {} : { resourceVersion }) },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    endpoints: addresses.map((a) => ({ addresses: [a] })),
  };
}

describe.skipIf(k8s === undefined)('bench slice watch (real kube-apiserver)', () => {
  it('follows one service\'s slices from a LIST through added, changed and deleted events', async () => {
    const kube = new Kube(k8s!);
    const ns = `slice-watch-${randomBytes(3).toString('hex')}`;
    const path = `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`;
    await createNamespace(kube, ns);
    const watch = new SliceWatch(k8s!, ns, 'svc');
    try {
      await kube.must('POST', path, slice('svc-a', 'svc', ['10.0.0.1']));
      await kube.must('POST', path, slice('other-a', 'other', ['10.9.9.9']));
      await watch.start();
      expect(watch.addresses()).toEqual(new Set(['10.0.0.1']));

      const before = performance.now();
      await kube.must('POST', path, slice('svc-b', 'svc', ['10.0.0.2']));
      expect(await watch.until((a) => a.has('10.0.0.2'), 10_000)).toBeGreaterThan(before);

      const current = await kube.must('GET', `${path}/svc-a`);
      const rv = (current['metadata'] as { resourceVersion?: string }).resourceVersion;
      await kube.must('PUT', `${path}/svc-a`, slice('svc-a', 'svc', ['10.0.0.3'], rv));
      await watch.until((a) => a.has('10.0.0.3') && !a.has('10.0.0.1'), 10_000);

      await kube.must('DELETE', `${path}/svc-b`);
      await watch.until((a) => !a.has('10.0.0.2'), 10_000);
      // Another service's slice changing is not this watch's business.
      await kube.must('POST', path, slice('other-b', 'other', ['10.9.9.8']));
      await expect(watch.until((a) => a.has('10.9.9.8'), 500)).rejects.toThrow(/within 0.5 s/);
      expect(watch.addresses()).toEqual(new Set(['10.0.0.3']));
    } finally {
      watch.close();
      await cleanupNamespace(kube, ns);
    }
  });
});
