import { Type, type Static } from '@sinclair/typebox';
import { SECRET_ENV, SECRET_FILE, credentialFree } from '../../bridge/runtime/config/index.ts';

/**
 * Leader election through a Consul session lock, for bridges without a Kubernetes registry (or
 * that prefer Consul). The runtime asks the elector whether this replica may write, for every sink.
 */
export const ConsulLeaderOptions = Type.Object(
  {
    enabled: Type.Boolean({ default: false, description: 'Elect one writer among the daemons or replicas of this bridge id with a Consul session lock (turn on when running more than one without a Kubernetes Lease).' }),
    identity: Type.Optional(Type.String({ minLength: 1, description: 'This replica\'s name in the lock and the logs; absent = $POD_NAME, else the hostname plus the process id.' })),
    keyPrefix: Type.String({
      default: 'isthmus',
      pattern: '^[^/]+(/[^/]+)*$',
      description: 'KV prefix of the lock key `<keyPrefix>/<bridge id>/leader`; needs `key_prefix` write and `session` write in the ACL policy.',
    }),
    ttlSeconds: Type.Integer({
      minimum: 10,
      maximum: 86_400,
      default: 10,
      description: 'Session TTL (Consul accepts 10 s to 24 h). Consul invalidates a session between TTL and 2×TTL after its last renewal: a dead leader is replaced after that plus lockDelaySeconds.',
    }),
    renewDeadlineSeconds: Type.Number({ minimum: 1, default: 7, description: 'The leader stops writing when it has not renewed its session for this long (must be < ttlSeconds).' }),
    retryPeriodSeconds: Type.Number({ minimum: 0.1, default: 2, description: 'Interval of renewals and of a standby\'s attempts to take the lock (must be < renewDeadlineSeconds).' }),
    lockDelaySeconds: Type.Number({
      minimum: 0,
      maximum: 60,
      default: 5,
      description: 'Session lock delay: after a session is invalidated (not after a release), nobody may take the lock for this long, so late writes of a lost leader land before the next one starts.',
    }),
  },
  { additionalProperties: false },
);
export type ConsulLeaderOptions = Static<typeof ConsulLeaderOptions>;

/** Options of `kind: consul`: one Consul datacenter reached over its HTTP API. */
export const ConsulOptions = Type.Object(
  {
    address: Type.String({
      ...credentialFree('put the ACL token in tokenFile (or tokenEnv)'),
      default: 'http://127.0.0.1:8500',
      description: 'Base URL of a Consul agent or server HTTP API, e.g. http://10.0.0.6:8500 (https:// for TLS).',
    }),
    tokenFile: Type.Optional(Type.String({ ...SECRET_FILE, description: 'File holding the ACL token (read once at start; never logged).' })),
    tokenEnv: Type.Optional(Type.String({ ...SECRET_ENV, description: 'Environment variable holding the ACL token, used when tokenFile is not set.' })),
    datacenter: Type.Optional(Type.String({ description: 'Datacenter to read and write (`dc` parameter); default: the agent\'s own.' })),
    consulNamespace: Type.Optional(Type.String({ description: 'Consul Enterprise namespace (`ns` parameter), passed through as is.' })),
    partition: Type.Optional(Type.String({ description: 'Consul Enterprise admin partition (`partition` parameter), passed through as is.' })),
    namespace: Type.String({ default: 'default', description: 'Canonical namespace of every imported service (Consul has no namespaces in OSS).' }),
    namespaceMetaKey: Type.Optional(
      Type.String({ description: 'Instance Meta key that, when present, gives the canonical namespace instead (e.g. external-k8s-ns).' }),
    ),
    portName: Type.String({ default: 'http', description: 'Name given to the Consul service port in the model; on export, the endpoint port with this name is registered.' }),
    services: Type.Array(Type.String(), {
      default: ['*'],
      description: 'Globs (`*`, `?`) of Consul service names to import. Only matching services are watched.',
    }),
    tags: Type.Array(Type.String(), { default: [], description: 'Import only instances carrying all of these tags.' }),
    meta: Type.Record(Type.String(), Type.String(), { default: {}, description: 'Import only instances whose Meta has these key/value pairs.' }),
    warningAs: Type.Union([Type.Literal('ready'), Type.Literal('draining'), Type.Literal('down')], {
      default: 'draining',
      description: 'What an imported instance whose checks are at worst `warning` becomes: ready, draining (serving, terminating) or down.',
    }),
    importConsulK8s: Type.Boolean({
      default: false,
      description: 'Import what consul-k8s catalog sync wrote (tag k8s / Meta external-source=kubernetes). Off by default: it came from Kubernetes.',
    }),
    zoneMetaKey: Type.String({ default: 'zone', description: 'Meta key carrying the zone (Spring Cloud Consul writes `zone`).' }),
    waitSeconds: Type.Integer({ minimum: 1, maximum: 290, default: 60, description: 'Blocking query wait; kept under the HTTP client\'s 300 s header timeout.' }),
    minWatchIntervalMs: Type.Integer({
      minimum: 0,
      default: 50,
      description: 'Minimum time between two blocking queries of one watch (Consul asks clients to rate-limit their loops).',
    }),
    maxBackoffMs: Type.Integer({ minimum: 100, default: 10_000, description: 'Cap of the exponential backoff after a failed query.' }),
    nodeName: Type.Optional(Type.String({ description: 'Synthetic node that holds exported services (shard 0; see nodeShards); default isthmus-<bridgeId>.' })),
    nodeShards: Type.Integer({
      minimum: 1,
      maximum: 256,
      default: 16,
      description:
        'Synthetic nodes exported services are spread over, by a hash of the service name: `<nodeName>` and `<nodeName>_1` … `_<n-1>`. Consul catalog writes slow down with the checks on the target node; 16 keeps a 10k-endpoint export at ~600 instances per node. A change moves records on the next pass.',
    }),
    nodeAddress: Type.String({ default: '127.0.0.1', description: 'Address of the synthetic node (services carry their own addresses).' }),
    drainingStatus: Type.Union([Type.Literal('warning'), Type.Literal('critical')], {
      default: 'warning',
      description: 'Check status written for a draining endpoint: warning (kept, excluded by ?passing) or critical.',
    }),
    maxTxnOps: Type.Integer({
      minimum: 2,
      maximum: 128,
      default: 128,
      description: 'Operations per /v1/txn request; Consul refuses more than 128 (verified against 1.22).',
    }),
    extraTags: Type.Array(Type.String(), { default: [], description: 'Tags added to every exported instance besides `isthmus`.' }),
    requestTimeoutMs: Type.Integer({ minimum: 100, default: 10_000, description: 'Timeout of a non-blocking request.' }),
    leaderElection: Type.Object(ConsulLeaderOptions.properties, { additionalProperties: false, default: {}, description: 'Consul session lock electing one writer among replicas of this bridge id.' }),
  },
  { additionalProperties: false },
);

export type ConsulOptions = Static<typeof ConsulOptions>;
