import { Type, type Static } from '@sinclair/typebox';
import { SECRET_ENV, SECRET_FILE, credentialFree } from '../../bridge/runtime/config/index.ts';

/**
 * Leader election through ZooKeeper, for bridges without a Kubernetes registry (or that prefer
 * ZooKeeper). The runtime asks the elector whether this replica may write, for every sink.
 */
export const DubboLeaderOptions = Type.Object(
  {
    enabled: Type.Boolean({ default: false, description: 'Elect one writer among the daemons or replicas of this bridge id with an ephemeral sequential node under `<stateRoot>/<bridge id>/leader` (turn on when running more than one without a Kubernetes Lease).' }),
    identity: Type.Optional(Type.String({ minLength: 1, description: 'This replica\'s name in its election node and the logs; absent = $POD_NAME, else the hostname plus the process id.' })),
    deadlineRatio: Type.Number({
      minimum: 0.2,
      maximum: 0.8,
      default: 0.6,
      description: 'The leader stops writing when it has not heard from ZooKeeper for this fraction of the granted session timeout; the server cannot hand over before the whole timeout.',
    }),
    retryPeriodSeconds: Type.Number({ minimum: 0.1, default: 2, description: 'How often a standby re-checks without a watch event (a leader probes at least three times per deadline).' }),
  },
  { additionalProperties: false },
);
export type DubboLeaderOptions = Static<typeof DubboLeaderOptions>;

/** Options of `kind: dubbo-zookeeper`: Dubbo's registry and metadata layout on one ZooKeeper ensemble. */
export const DubboOptions = Type.Object(
  {
    connect: Type.String({
      ...credentialFree('use auth: { scheme: digest, credentialsFile: … }'),
      default: '127.0.0.1:2181',
      description: 'ZooKeeper connect string, `host:port[,host:port…][/chroot]` (a chroot is handled by the client).',
    }),
    root: Type.String({
      default: '/dubbo',
      pattern: '^/[^/]+$',
      description: 'Interface-level root: `/dubbo`, or `/<registry group>` when the Dubbo registry sets a group. Also the metadata and mapping root.',
    }),
    servicesRoot: Type.String({ default: '/services', pattern: '^/[^/]+$', description: 'Application-level (Dubbo 3) root of `/<app>/<ip:port>` instances.' }),
    stateRoot: Type.String({
      default: '/isthmus',
      pattern: '^/[^/]+$',
      description: 'Where the sink records what it added to shared nodes it cannot mark (interface→application mapping entries), so `isthmus cleanup` takes back exactly those. Outside the Dubbo tree; must be writable.',
    }),
    namespace: Type.String({ default: 'default', description: 'Canonical namespace of every imported service.' }),
    import: Type.Array(Type.Union([Type.Literal('interface'), Type.Literal('application')]), {
      default: ['interface', 'application'],
      description: 'Which layouts the source imports: interface-level providers become `interface[:version[:group]]` services, application-level instances become `<application>` services.',
    }),
    names: Type.Record(Type.String(), Type.String(), {
      default: {},
      description: 'Native key (`interface[:version[:group]]` or application) → canonical service name, to choose the Kubernetes name.',
    }),
    protocols: Type.Array(Type.String(), {
      default: ['dubbo', 'tri', 'grpc', 'rest', 'http'],
      description: 'Provider protocols the source imports; any other scheme is quarantined as unknown.',
    }),
    maxUrlLength: Type.Integer({ minimum: 256, default: 8192, description: 'Provider URLs longer than this (decoded) are quarantined.' }),
    sessionTimeoutMs: Type.Integer({ minimum: 2000, default: 30_000, description: 'ZooKeeper session timeout; our ephemeral nodes vanish this long after the bridge is gone.' }),
    requestTimeoutMs: Type.Integer({ minimum: 100, default: 10_000, description: 'Timeout of one ZooKeeper request.' }),
    persistent: Type.Boolean({
      default: false,
      description: 'Write provider and instance nodes persistent instead of ephemeral (Dubbo `dynamic=false`); they then outlive the bridge until `isthmus cleanup`.',
    }),
    auth: Type.Optional(
      Type.Object(
        {
          scheme: Type.Literal('digest'),
          credentialsFile: Type.Optional(Type.String({ ...SECRET_FILE, description: 'File holding `user:password` (read once; never logged).' })),
          credentialsEnv: Type.Optional(Type.String({ ...SECRET_ENV, description: 'Environment variable holding `user:password`.' })),
        },
        { additionalProperties: false, description: 'Digest auth: added to the session, and nodes we create get an ACL giving that identity all rights and everyone read.' },
      ),
    ),
    defaultProtocol: Type.String({ default: 'dubbo', description: 'Protocol exported when neither the Service annotation nor the endpoint names one.' }),
    release: Type.String({ default: '3.3.2', description: 'Dubbo release advertised in exported URLs (`release` parameter).' }),
    leaderElection: Type.Object(DubboLeaderOptions.properties, { additionalProperties: false, default: {}, description: 'ZooKeeper election of one writer among replicas of this bridge id (on the session the exports live on).' }),
  },
  { additionalProperties: false },
);

export type DubboOptions = Static<typeof DubboOptions>;
