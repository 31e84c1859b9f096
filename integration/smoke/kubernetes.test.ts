/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment --
   @kubernetes/client-node declares its models as field-only classes, yet documents and serialises
   plain object literals; constructing each nested model by hand would only add noise. */
import { AuthenticationV1Api, CoreV1Api, DiscoveryV1Api, KubeConfig, Watch, VersionApi } from '@kubernetes/client-node';
import type { KubernetesObject, V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { uniqueName } from './unique.ts';

const conn = inject('isthmusServers').kubernetes;

interface Seen {
  readonly phase: string;
  readonly obj: KubernetesObject;
}

/** Collects watch events for one path until aborted. */
async function collect(kc: KubeConfig, path: string): Promise<{ events: Seen[]; stop: () => void }> {
  const events: Seen[] = [];
  const controller = await new Watch(kc).watch(
    path,
    {},
    (phase, obj: KubernetesObject) => {
      events.push({ phase, obj });
    },
    () => undefined,
  );
  return {
    events,
    stop: () => {
      controller.abort();
    },
  };
}

describe.skipIf(conn === undefined)('kubernetes (real kube-apiserver + etcd)', () => {
  const kc = new KubeConfig();
  const namespace = uniqueName('isthmus-smoke');

  beforeAll(() => {
    kc.loadFromFile(conn!.kubeconfigPath);
  });

  afterAll(async () => {
    // No namespace controller runs, so the namespace stays Terminating; its name is unique anyway.
    await kc.makeApiClient(CoreV1Api).deleteNamespace({ name: namespace });
  });

  it('reports the pinned version over TLS with the static token', async () => {
    const info = await kc.makeApiClient(VersionApi).getCode();
    expect(info.gitVersion).toBe(conn!.version);
  });

  it('creates a namespace, Service and EndpointSlice and receives them over watches', async () => {
    const core = kc.makeApiClient(CoreV1Api);
    const discovery = kc.makeApiClient(DiscoveryV1Api);
    await core.createNamespace({ body: { metadata: { name: namespace } } });

    const services = await collect(kc, `/api/v1/namespaces/${namespace}/services`);
    const slices = await collect(kc, `/apis/discovery.k8s.io/v1/namespaces/${namespace}/endpointslices`);
    try {
      const service: V1Service = {
        metadata: { name: 'echo', namespace },
        spec: { ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
      };
      await core.createNamespacedService({ namespace, body: service });
      const slice: V1EndpointSlice = {
        metadata: {
          name: 'echo-isthmus',
          namespace,
          // Not endpointslice-controller.k8s.io: a controller-manager started later must not adopt it.
          labels: { 'kubernetes.io/service-name': 'echo', 'endpointslice.kubernetes.io/managed-by': 'isthmus.test' },
        },
        addressType: 'IPv4',
        endpoints: [{ addresses: ['10.1.2.3'], conditions: { ready: true } }],
        ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      };
      await discovery.createNamespacedEndpointSlice({ namespace, body: slice });

      await expect
        .poll(() => services.events.map((e) => `${e.phase}:${e.obj.metadata?.name ?? ''}`), { timeout: 15_000 })
        .toContain('ADDED:echo');
      await expect
        .poll(() => slices.events.map((e) => `${e.phase}:${e.obj.metadata?.name ?? ''}`), { timeout: 15_000 })
        .toContain('ADDED:echo-isthmus');
      const added = slices.events.find((e) => e.phase === 'ADDED')!.obj as V1EndpointSlice;
      expect(added.endpoints[0]?.addresses).toEqual(['10.1.2.3']);
    } finally {
      services.stop();
      slices.stop();
    }
  });

  it('issues ServiceAccount tokens through TokenRequest, and they authenticate', async () => {
    const core = kc.makeApiClient(CoreV1Api);
    await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: 'bridge' } } });
    const request = await core.createNamespacedServiceAccountToken({
      name: 'bridge',
      namespace,
      body: { spec: { audiences: [conn!.serviceAccountIssuer], expirationSeconds: 600 } },
    });
    const token = request.status?.token;
    expect(token).toBeTruthy();

    const asSa = new KubeConfig();
    asSa.loadFromOptions({
      clusters: [{ name: 'it', server: conn!.server, caFile: conn!.caFile }],
      users: [{ name: 'sa', token: token! }],
      contexts: [{ name: 'it', cluster: 'it', user: 'sa' }],
      currentContext: 'it',
    });
    const review = await asSa.makeApiClient(AuthenticationV1Api).createSelfSubjectReview({ body: {} });
    expect(review.status?.userInfo?.username).toBe(`system:serviceaccount:${namespace}:bridge`);
  });
});
