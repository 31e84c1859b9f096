import { Type, type Static } from '@sinclair/typebox';

/** Options of `kind: consul`: one Consul datacenter reached over its HTTP API. */
export const ConsulOptions = Type.Object(
  {
    address: Type.String({
      default: 'http://127.0.0.1:8500',
      description: 'Base URL of a Consul agent or server HTTP API, e.g. http://10.0.0.6:8500 (https:// for TLS).',
    }),
    tokenFile: Type.Optional(Type.String({ description: 'File holding the ACL token (read once at start; never logged).' })),
    tokenEnv: Type.Optional(Type.String({ description: 'Environment variable holding the ACL token, used when tokenFile is not set.' })),
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
    nodeName: Type.Optional(Type.String({ description: 'Synthetic node that holds exported services; default isthmus-<bridgeId>.' })),
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
  },
  { additionalProperties: false },
);

export type ConsulOptions = Static<typeof ConsulOptions>;
