import { Type } from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
import { DEFAULT_POLICY } from '../../model/index.ts';
import { SECRET_FILE } from './references.ts';

// The one definition of the config file's shape. Validation (validate.ts) and the published JSON
// Schema (json-schema.ts) both read these, so the docs cannot drift from what is enforced.
// `errorMessage` is our own keyword: a sentence for people instead of TypeBox's generic one; it
// is stripped from the published schema.

export const ID_PATTERN = '^[a-z0-9]([a-z0-9-]*[a-z0-9])?$';

const closed = { additionalProperties: false } as const;

const RegistryIdRef = Type.String({
  pattern: ID_PATTERN,
  errorMessage: 'must be a registry id (lowercase a-z, 0-9 and "-")',
});

/** A registry id or a non-empty list of them. */
const RegistryList = Type.Union([RegistryIdRef, Type.Array(RegistryIdRef, { minItems: 1 })], {
  errorMessage: 'must be a registry id or a non-empty list of registry ids',
});

export const BridgeSchema = Type.Object(
  {
    id: Type.String({
      pattern: '^[a-z0-9-]{1,40}$',
      description: 'Identity of this bridge: goes into every ownership marker and into Consul node names.',
      errorMessage: 'must be 1-40 characters of lowercase a-z, 0-9 and "-" (it goes into ownership markers and Consul node names)',
    }),
  },
  closed,
);

export const SelectSchema = Type.Object(
  {
    namespaces: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { description: 'Canonical namespaces; absent = all.' })),
    services: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), { description: 'Globs (`*`, `?`) over `name` or `namespace/name`; absent = all.' }),
    ),
    metadata: Type.Optional(
      Type.Record(Type.String(), Type.String(), { description: 'Service metadata that must be present with exactly these values.' }),
    ),
  },
  closed,
);

export const MapSchema = Type.Object(
  {
    namespace: Type.Optional(Type.String({ minLength: 1, description: 'Target namespace; absent = keep the source namespace.' })),
    prefix: Type.Optional(Type.String({ description: 'Prepended to the service name in the target.' })),
    suffix: Type.Optional(Type.String({ description: 'Appended to the service name in the target.' })),
  },
  closed,
);

const guard = DEFAULT_POLICY.deleteGuard;

export const PolicySchema = Type.Object(
  {
    deleteGuard: Type.Optional(Type.Object(
      {
        maxShrinkPercent: Type.Optional(Type.Number({
          minimum: 0,
          maximum: 100,
          default: guard.maxShrinkPercent,
          description:
            'A pass removing more than this share of a service\'s endpoints is held: a half-broken source ' +
            'listing usually looks like a sudden mass deletion, and a real scale-down survives a short hold.',
        })),
        holdSeconds: Type.Optional(Type.Integer({
          minimum: 0,
          default: guard.holdSeconds,
          description:
            'How long a held shrink waits before it is applied if the sources still agree. Two minutes ' +
            'outlasts a registry restart or a leader change; 0 = hold until the sources change.',
        })),
        registryEmpty: Type.Optional(Type.Union([Type.Literal('hold'), Type.Literal('propagate')], {
          default: guard.registryEmpty,
          description: 'A source whose whole view went empty: hold (an outage rarely means every service was retired) or propagate.',
        })),
      },
      { ...closed, default: {} },
    )),
    staleAfterSeconds: Type.Optional(
      Type.Integer({
        minimum: 1,
        description:
          'Drop an unreachable source\'s endpoints after this long. Absent = freeze forever: stale ' +
          'endpoints of a live service beat no endpoints at all.',
      }),
    ),
    exportDraining: Type.Optional(Type.Boolean({
      default: DEFAULT_POLICY.exportDraining,
      description: 'Write draining (serving and terminating) endpoints as draining, so targets stop sending before the instance exits; false writes them as down instead (never left out).',
    })),
  },
  { ...closed, default: {} },
);

export const RouteSchema = Type.Object(
  {
    from: RegistryList,
    to: RegistryList,
    select: Type.Optional(SelectSchema),
    map: Type.Optional(MapSchema),
    policy: Type.Optional(PolicySchema),
  },
  closed,
);

export const SyncSchema = Type.Object(
  {
    workers: Type.Optional(Type.Integer({
      minimum: 1,
      maximum: 256,
      default: 8,
      description: 'Concurrent reconciles. Registry round trips dominate, so a few workers hide latency without flooding the registries.',
    })),
    quietMs: Type.Optional(Type.Integer({
      minimum: 0,
      default: 10,
      description:
        'Debounce: reconcile a key once it has been quiet this long. 10 ms joins the events one ' +
        'change produces (a Service and its EndpointSlices, a registry\'s per-instance notices) and ' +
        'keeps propagation under the 50 ms p50 target; removals split across passes within ' +
        'maxDelayMs are still judged together by the deletion guard.',
    })),
    maxDelayMs: Type.Optional(Type.Integer({
      minimum: 1,
      default: 1000,
      description: 'Upper bound on debouncing: a key that never goes quiet is still reconciled this often. Also how far back the deletion guard looks for what a target held, so a burst of removals reconciled in pieces is judged as a whole.',
    })),
    resyncSeconds: Type.Optional(Type.Integer({
      minimum: 0,
      default: 300,
      description:
        'Full resync period: re-checks every target to repair hand edits and missed events. Five ' +
        'minutes bounds drift without adding noticeable load; 0 disables.',
    })),
    resyncJitter: Type.Optional(Type.Number({
      minimum: 0,
      maximum: 1,
      default: 0.1,
      description: 'Random share added to the resync period so replicas and bridges do not resync in lockstep.',
    })),
    retryBaseMs: Type.Optional(Type.Integer({
      minimum: 1,
      default: 200,
      description: 'First retry delay after a failed reconcile, doubled per failure: long enough for a version conflict to settle.',
    })),
    retryMaxMs: Type.Optional(Type.Integer({
      minimum: 1,
      default: 60000,
      description: 'Cap on the per-key retry delay: a broken registry is probed once a minute instead of hammered.',
    })),
    retryPerSecond: Type.Optional(Type.Number({
      exclusiveMinimum: 0,
      default: 50,
      description: 'Global retry budget across all keys, so a registry outage does not turn into a retry storm on recovery.',
    })),
  },
  { ...closed, default: {} },
);

function port(byDefault: number) {
  return Type.Integer({ minimum: 0, maximum: 65535, default: byDefault, errorMessage: 'must be a port number 0-65535 (0 = ephemeral)' });
}

export const ResolverSchema = Type.Object(
  {
    http: Type.Optional(Type.Object(
      {
        host: Type.Optional(Type.String({ minLength: 1, default: '127.0.0.1', description: 'Listen address; loopback unless callers are remote.' })),
        port: Type.Optional(port(8080)),
      },
      { ...closed, default: {}, description: 'Always served: status, health and metrics live here.' },
    )),
    grpc: Type.Optional(Type.Object(
      {
        enabled: Type.Optional(Type.Boolean({ default: true })),
        host: Type.Optional(Type.String({ minLength: 1, default: '127.0.0.1' })),
        port: Type.Optional(port(9090)),
      },
      { ...closed, default: {} },
    )),
    auth: Type.Optional(
      Type.Object(
        { tokenFile: Type.String({ ...SECRET_FILE, minLength: 1, description: 'File holding the bearer token callers must present.' }) },
        closed,
      ),
    ),
    tls: Type.Optional(
      Type.Object(
        {
          certFile: Type.String({ ...SECRET_FILE, minLength: 1, description: 'PEM certificate chain served by both the HTTP and the gRPC listener.' }),
          keyFile: Type.String({ ...SECRET_FILE, minLength: 1, description: 'PEM private key of certFile.' }),
        },
        { ...closed, description: 'Serve HTTPS and gRPC over TLS; absent = plaintext (loopback or a mesh that encrypts).' },
      ),
    ),
    limits: Type.Optional(Type.Object(
      {
        maxWatchStreams: Type.Optional(Type.Integer({ minimum: 1, default: 2000, description: 'Watch streams served at once per listener (gRPC Watch; SSE and waiting long-polls on HTTP); beyond it RESOURCE_EXHAUSTED / 503.' })),
        maxBufferedMiB: Type.Optional(Type.Number({ minimum: 1, default: 32, description: 'Unsent watch data all gRPC streams together may hold; bounds memory however many clients stop reading.' })),
        slowConsumerSeconds: Type.Optional(Type.Number({ minimum: 1, default: 10, description: 'A gRPC Watch client that has not taken its state for this long is reset (it reconnects and re-syncs).' })),
      },
      { ...closed, default: {}, description: 'Bounds on watch streams, so stalled or runaway clients cannot exhaust memory.' },
    )),
  },
  { ...closed, default: {} },
);

/** registry id → share (`{ vm: 90, k8s: 10 }`): one service's migration split, here and in the ServiceMigration CRD. */
export function splitSchema(options: { description?: string } = {}) {
  return Type.Record(Type.String({ pattern: ID_PATTERN }), Type.Number({ minimum: 0, maximum: 10000 }), {
    minProperties: 1,
    errorMessage: 'must map registry ids to shares 0-10000, like { vm: 90, k8s: 10 }',
    ...options,
  });
}

/** `namespace/name` → registry id → share: the migration split per service (DESIGN §5). */
export const WeightsSchema = Type.Record(
  Type.String({ pattern: '^[^/]+/[^/]+$', errorMessage: 'must be a service as namespace/name' }),
  splitSchema(),
  {
    default: {},
    description:
      'Migration split per service, by origin registry: `shop/orders: { vm: 90, k8s: 10 }`. Applied as endpoint ' +
      'weights in registries that carry weights and in resolver answers. A ServiceMigration object for the service ' +
      '(Kubernetes registry configured) takes precedence; `isthmus weight` writes that object, or memory without Kubernetes.',
  },
);

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const LogSchema = Type.Object(
  {
    level: Type.Optional(Type.Union(
      LOG_LEVELS.map((l) => Type.Literal(l)),
      { default: 'info' },
    )),
  },
  { ...closed, default: {} },
);

/**
 * The file as written (everything with a default is optional), minus registries: those are validated per kind (validate.ts), because
 * their option schemas come from the adapters at run time.
 */
export const FileSchema = Type.Object(
  {
    bridge: BridgeSchema,
    registries: Type.Record(Type.String(), Type.Unknown(), { minProperties: 1, errorMessage: 'must map registry ids to registries' }),
    routes: Type.Optional(Type.Array(RouteSchema, { default: [] })),
    sync: Type.Optional(SyncSchema),
    resolver: Type.Optional(ResolverSchema),
    weights: Type.Optional(WeightsSchema),
    log: Type.Optional(LogSchema),
  },
  closed,
);

export type LogLevel = (typeof LOG_LEVELS)[number];
/** A route as written, after defaults. */
export type FileRoute = Static<typeof RouteSchema>;
