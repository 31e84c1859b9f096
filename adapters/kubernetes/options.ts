import { Type, type Static } from '@sinclair/typebox';
import { SECRET_FILE } from '../../bridge/runtime/config/index.ts';

const Connection = Type.Object(
  {
    kubeconfig: Type.Optional(Type.String({ ...SECRET_FILE, description: 'Path to a kubeconfig file. Absent: in-cluster ServiceAccount credentials when running in a Pod, else $KUBECONFIG or ~/.kube/config.' })),
    context: Type.Optional(Type.String({ description: 'kubeconfig context to use; absent = the current context.' })),
  },
  { additionalProperties: false },
);

const SourceOptions = Type.Object(
  {
    services: Type.Array(Type.String(), { default: [], description: 'Name globs (`orders*`, `shop/orders-*`) a Service must match to be exported; empty = every Service.' }),
    excludeNamespaces: Type.Array(Type.String(), { default: ['kube-system', 'kube-public', 'kube-node-lease'], description: 'Namespaces never exported, whatever else matches (control-plane Services are no business of VM callers).' }),
    labels: Type.Record(Type.String(), Type.String(), { default: {}, description: 'Labels a Service must carry (all of them, exact values) to be exported.' }),
    annotations: Type.Record(Type.String(), Type.String(), { default: {}, description: 'Annotations a Service must carry (all of them, exact values), e.g. `isthmus.dev/export: "true"`.' }),
    addressMode: Type.Union([Type.Literal('podIP'), Type.Literal('nodePort'), Type.Literal('loadBalancer'), Type.Literal('gateway')], {
      default: 'podIP',
      description: 'Which address VMs get for an exported endpoint: the pod IP (flat network), node IP + NodePort, the LoadBalancer ingress IP, or the fixed gateway address. A Service overrides it with the `isthmus.dev/address-mode` annotation.',
    }),
    nodeAddressType: Type.Union([Type.Literal('InternalIP'), Type.Literal('ExternalIP')], { default: 'InternalIP', description: 'Node address used by the nodePort mode.' }),
    watchNodes: Type.Boolean({ default: false, description: 'Watch Nodes (needs list/watch on nodes). Required for the nodePort mode; turned on automatically when addressMode is nodePort.' }),
    istio: Type.Object(
      {
        mtlsPreflight: Type.Boolean({ default: false, description: 'Read PeerAuthentications (security.istio.io) and report exported Services whose pods run STRICT mTLS, which refuses the plaintext calls of VM callers without a sidecar: in status, `isthmus status` and `isthmus_export_mtls_strict`. Advisory only: nothing is held back. Needs get/list/watch on peerauthentications; off (default): no Istio object is read.' }),
        workloadEntries: Type.Boolean({ default: false, description: 'Read WorkloadEntries (networking.istio.io; VMs onboarded to the mesh, e.g. auto-registered by istiod) and export each one, in the namespace of a Service whose selector matches its labels, as a VM endpoint of that Service: ports, weight, locality and the `Healthy` condition resolved as Istio does. Entries written by any Isthmus bridge are never exported; a DNS-name address is quarantined. Needs list/watch on workloadentries; off (default): none is read.' }),
        rootNamespace: Type.String({ default: 'istio-system', description: 'Istio root namespace: a PeerAuthentication there without selector is mesh-wide (meshConfig.rootNamespace).' }),
      },
      { additionalProperties: false, default: {}, description: 'Istio on the export side: the mTLS preflight and WorkloadEntry import (README "Istio mode").' },
    ),
    gateway: Type.Optional(
      Type.Object(
        {
          address: Type.String({ description: 'IP address of the gateway VMs call instead of pods.' }),
          ports: Type.Record(Type.String(), Type.Integer({ minimum: 1, maximum: 65535 }), { default: {}, description: 'Port name → gateway port; a port not listed keeps the Service port.' }),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

const IstioOptions = Type.Object(
  {
    enabled: Type.Boolean({ default: false, description: 'Turn the Istio mode on. Off (default): no Istio object is read or written and no Istio RBAC is needed.' }),
    services: Type.Array(Type.String(), { default: ['*'], description: 'Globs over the original `name` or `namespace/name` of imported services that use the Istio mode; the others keep EndpointSlices. A service is in one mode only: switching removes the other mode\'s objects.' }),
    clusterDomain: Type.String({ default: 'cluster.local', description: 'Cluster DNS domain of the mesh hosts (`<svc>.<ns>.svc.<domain>`).' }),
    exportTo: Type.Array(Type.String(), { default: ['*'], description: 'exportTo of every ServiceEntry, DestinationRule and VirtualService (`.` = this namespace only; scoping keeps sidecar config small).' }),
    vipCidr: Type.Optional(Type.String({ description: 'IPv4 CIDR (e.g. 240.240.0.0/16) to take ServiceEntry `addresses` from for VM-only services with TCP ports (Dubbo 20880…), which otherwise collide on 0.0.0.0:port. Absent: no addresses (rely on Istio\'s IP auto-allocation).' })),
    region: Type.Optional(Type.String({ description: 'Region put before an endpoint\'s zone in the WorkloadEntry locality (`region/zone`); absent: a zone without `/` is written as the locality as is.' })),
    podSubsetLabels: Type.Record(Type.String(), Type.String(), { default: { 'isthmus.dev/side': 'k8s' }, description: 'Labels of the DestinationRule subset `k8s` (the pods). Pods must carry them for the pod share of a split to be routed.' }),
  },
  { additionalProperties: false },
);

const SinkOptions = Type.Object(
  {
    serviceType: Type.Union([Type.Literal('ClusterIP'), Type.Literal('Headless')], { default: 'ClusterIP', description: 'Shape of the selectorless Services created for imported services.' }),
    maxEndpointsPerSlice: Type.Integer({ minimum: 1, maximum: 1000, default: 100, description: 'Endpoints per EndpointSlice (the control plane default is 100; the API limit 1000).' }),
    createNamespaces: Type.Boolean({ default: false, description: 'Create a missing target namespace (needs create on namespaces). Off: imports into a missing namespace fail with ISTHMUS_REGISTRY_REJECTED.' }),
    istio: Type.Object(IstioOptions.properties, {
      additionalProperties: false,
      default: {},
      description: 'Istio mode (README "Istio mode"): imported VM instances become WorkloadEntries routed by the mesh instead of EndpointSlices. Needs Istio\'s CRDs and RBAC for its kinds.',
    }),
    mixed: Type.Union([Type.Literal('never'), Type.Literal('annotated'), Type.Literal('always')], {
      default: 'annotated',
      description: 'When a Service of the target name exists without our markers: never touch it (name collision); add our EndpointSlices to it only if it carries `isthmus.dev/accept-imports: "true"`; or always. The Service itself is never modified.',
    }),
  },
  { additionalProperties: false },
);

/** `kind: kubernetes` options. Everything has a default, so `{}` is a working configuration. */
/** Lease election: the runtime asks the adapter's elector whether this replica may write. */
export const LeaderOptions = Type.Object(
  {
    enabled: Type.Boolean({ default: false, description: 'Elect one writer among replicas with a Lease in this cluster (turn on when running more than one replica).' }),
    identity: Type.Optional(Type.String({ description: 'This replica\'s name in the Lease; absent = $POD_NAME, else the hostname plus the process id.' })),
    namespace: Type.String({ default: 'isthmus-system', description: 'Namespace of the Lease.' }),
    name: Type.String({ default: 'isthmus-leader', description: 'Lease name; every replica of one bridge id must use the same.' }),
    leaseDurationSeconds: Type.Integer({ minimum: 1, default: 15, description: 'How long a Lease is valid after its last renewal; a dead leader is replaced after this.' }),
    renewDeadlineSeconds: Type.Integer({ minimum: 1, default: 10, description: 'The leader stops writing if it has not renewed for this long (must be < leaseDuration).' }),
    retryPeriodSeconds: Type.Number({ minimum: 0.1, default: 2, description: 'Interval between acquire/renew attempts.' }),
  },
  { additionalProperties: false },
);
export type LeaderOptions = Static<typeof LeaderOptions>;

export const KubernetesOptions = Type.Object(
  {
    connection: Type.Object(Connection.properties, { additionalProperties: false, default: {}, description: 'How to reach the API server.' }),
    namespaces: Type.Array(Type.String(), { default: [], description: 'Namespaces watched and written; empty = all (needs cluster-wide list/watch). With a list, a namespaced Role per namespace is enough.' }),
    source: Type.Object(SourceOptions.properties, { additionalProperties: false, default: {}, description: 'Export side (Kubernetes → other registries).' }),
    sink: Type.Object(SinkOptions.properties, { additionalProperties: false, default: {}, description: 'Import side (other registries → Kubernetes).' }),
    leaderElection: Type.Object(LeaderOptions.properties, { additionalProperties: false, default: {}, description: 'Lease-based leader election among bridge replicas.' }),
    serviceMigrations: Type.Object(
      {
        enabled: Type.Boolean({ default: true, description: 'Read ServiceMigration objects (isthmus.dev/v1alpha1, cluster-wide) for per-service splits and let `isthmus weight` write them. Without the CRD or RBAC the bridge runs on, with splits from config, and says why in status.' }),
        recheckSeconds: Type.Number({ minimum: 1, default: 30, description: 'How often to look again for a CRD that is not installed or a list RBAC refused, so installing it later needs no restart.' }),
      },
      { additionalProperties: false, default: {}, description: 'ServiceMigration custom resources (needs get/list/watch/create/patch on servicemigrations and patch on servicemigrations/status).' },
    ),
    resyncBackoffMs: Type.Object(
      {
        min: Type.Integer({ minimum: 10, default: 500, description: 'First delay before re-listing/re-watching after an error.' }),
        max: Type.Integer({ minimum: 10, default: 30_000, description: 'Longest delay between attempts while the API server is unreachable.' }),
      },
      { additionalProperties: false, default: {}, description: 'Supervision backoff for list/watch.' },
    ),
  },
  { additionalProperties: false },
);

export type KubernetesOptions = Static<typeof KubernetesOptions>;
export type KubernetesSourceOptions = Static<typeof SourceOptions>;
export type KubernetesSinkOptions = Static<typeof SinkOptions>;
export type IstioOptions = Static<typeof IstioOptions>;
export type AddressMode = KubernetesSourceOptions['addressMode'];

