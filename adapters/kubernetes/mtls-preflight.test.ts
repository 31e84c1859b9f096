import { describe, expect, it, vi } from 'vitest';
import { BridgeError } from '../../bridge/errors/index.ts';
import type { CustomResource, KubeClient, WatchHandle } from './client.ts';
import { MtlsPreflight } from './mtls-preflight.ts';

const notInstalled = (r: CustomResource) => new BridgeError('ISTHMUS_REGISTRY_REJECTED', `kubernetes: list ${r.plural}.${r.group}: 404`, { details: { status: 404, notFound: 'resource' } });

/** A client serving PeerAuthentications only under `served` versions; watches stay open. */
function fakeClient(served: readonly string[], calls: string[]): KubeClient {
  const api = {
    listObjects: (r: CustomResource, ns: string | undefined) => {
      calls.push(`list ${r.version} ${ns ?? '*'}`);
      if (!served.includes(r.version)) return Promise.reject(notInstalled(r));
      return Promise.resolve({ items: [{ metadata: { namespace: 'shop', name: `strict-${r.version}`, resourceVersion: '1' }, spec: { mtls: { mode: 'STRICT' } } }], resourceVersion: '1' });
    },
    watch: (r: CustomResource): Promise<WatchHandle> => {
      calls.push(`watch ${r.version}`);
      return Promise.resolve({ abort: () => undefined });
    },
  };
  return api as unknown as KubeClient;
}

function preflight(client: KubeClient) {
  return new MtlsPreflight(client, { rootNamespace: 'istio-system', namespaces: [], minBackoffMs: 10, maxBackoffMs: 20, onChange: () => undefined });
}

describe('MtlsPreflight', () => {
  it('falls back to v1beta1 when the API server does not serve v1, and watches that version', async () => {
    const calls: string[] = [];
    const p = preflight(fakeClient(['v1beta1'], calls));
    const abort = new AbortController();
    p.start(abort.signal);
    await vi.waitFor(() => { expect(p.policies().map((x) => x.metadata?.name)).toEqual(['strict-v1beta1']); });
    await vi.waitFor(() => { expect(calls).toContain('watch v1beta1'); });
    expect(calls.slice(0, 2)).toEqual(['list v1 *', 'list v1beta1 *']);
    expect(p.notices()).toEqual([]);
    abort.abort();
  });

  it('is one notice, not an error, without the CRD; and keeps trying', async () => {
    const calls: string[] = [];
    const p = preflight(fakeClient([], calls));
    const abort = new AbortController();
    p.start(abort.signal);
    await vi.waitFor(() => {
      expect(p.notices()).toEqual([{ code: 'mtls-unreadable', reason: 'PeerAuthentication not readable: CRD peerauthentications.security.istio.io is not installed' }]);
    });
    await vi.waitFor(() => { expect(calls.filter((c) => c === 'list v1 *').length).toBeGreaterThan(1); });
    expect(p.policies()).toEqual([]);
    abort.abort();
  });

  it('watches each listed namespace and the root namespace when scoped', async () => {
    const calls: string[] = [];
    const p = new MtlsPreflight(fakeClient(['v1'], calls), { rootNamespace: 'mesh', namespaces: ['shop', 'mesh', 'pay'], minBackoffMs: 10, maxBackoffMs: 20, onChange: () => undefined });
    const abort = new AbortController();
    p.start(abort.signal);
    await vi.waitFor(() => { expect(calls.filter((c) => c.startsWith('list')).sort()).toEqual(['list v1 mesh', 'list v1 pay', 'list v1 shop']); });
    abort.abort();
  });
});
