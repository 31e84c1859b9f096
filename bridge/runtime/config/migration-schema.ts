import { Type } from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
import { splitSchema } from './schema.ts';

// The ServiceMigration custom resource (isthmus.dev/v1alpha1), defined once here: the bridge
// validates objects it reads with these, and the CRD's openAPIV3Schema is generated from them
// (adapters/kubernetes/migration-crd.ts; `npm run deploy:generate` writes deploy/crds/), so the cluster's validation and ours cannot drift. The split's
// shape is the config file's `weights` value (schema.ts uses SplitSchema too).

export const MIGRATION_GROUP = 'isthmus.dev';
export const MIGRATION_VERSION = 'v1alpha1';
export const MIGRATION_KIND = 'ServiceMigration';
export const MIGRATION_PLURAL = 'servicemigrations';

export const MIGRATION_PHASES = ['vm-only', 'shifting', 'k8s-primary', 'k8s-only', 'done'] as const;
export type MigrationPhase = (typeof MIGRATION_PHASES)[number];

export const MigrationSpecSchema = Type.Object(
  {
    service: Type.Optional(Type.String({
      minLength: 1,
      maxLength: 253,
      description:
        'The service, as `name` (in this object\'s namespace) or `namespace/name`. Default: the object\'s name. ' +
        'Needed when the service name is not a valid Kubernetes object name (upper case, dots, underscores).',
    })),
    split: Type.Optional(splitSchema({
      description:
        'Share of calls per origin registry id, e.g. `{vm: 90, k8s: 10}` (only the ratio matters). Written as endpoint ' +
        'weights into every registry that carries weights and into resolver answers. Absent: the config file\'s split, if any.',
    })),
    phase: Type.Optional(Type.Union(MIGRATION_PHASES.map((p) => Type.Literal(p)), {
      description:
        'Where the migration stands (informational; docs/migration.md): vm-only, shifting, k8s-primary, k8s-only, done. ' +
        '`done` is reported in status with whether VM registries still receive the exported pods.',
    })),
  },
  { additionalProperties: false },
);

export const OriginStatusSchema = Type.Object({
  ready: Type.Integer({ minimum: 0 }),
  total: Type.Integer({ minimum: 0 }),
  weight: Type.Optional(Type.Integer({ minimum: 0, description: 'Sum of the effective weights written for this origin\'s ready endpoints.' })),
  share: Type.Optional(Type.Number({ minimum: 0, maximum: 100, description: 'Percent of traffic a weighted consumer sends to this origin.' })),
});

export const SinkStatusSchema = Type.Object({
  endpoints: Type.Integer({ minimum: 0, description: 'Endpoints this bridge has written there for the service.' }),
  state: Type.String({ description: 'in-sync, pending, held, refused or failed.' }),
  lastWrite: Type.Optional(Type.String({ format: 'date-time' })),
});

export const ConditionSchema = Type.Object({
  type: Type.String(),
  status: Type.Union([Type.Literal('True'), Type.Literal('False'), Type.Literal('Unknown')]),
  reason: Type.String(),
  message: Type.String(),
  lastTransitionTime: Type.String({ format: 'date-time' }),
});

export const MigrationStatusSchema = Type.Object({
  observedGeneration: Type.Optional(Type.Integer({ minimum: 0 })),
  service: Type.Optional(Type.String({ description: 'The service as namespace/name.' })),
  split: Type.Optional(Type.String({ description: 'The effective split as text, e.g. "vm=90 k8s=10", and where it came from.' })),
  ready: Type.Optional(Type.String({ description: 'Ready/total instances per origin as text, e.g. "vm 2/2, k8s 3/3".' })),
  origins: Type.Optional(Type.Record(Type.String(), OriginStatusSchema)),
  sinks: Type.Optional(Type.Record(Type.String(), SinkStatusSchema)),
  heldDeletions: Type.Optional(Type.Integer({ minimum: 0 })),
  quarantined: Type.Optional(Type.Integer({ minimum: 0 })),
  lastSync: Type.Optional(Type.String({ format: 'date-time' })),
  conditions: Type.Optional(Type.Array(ConditionSchema)),
});

export type MigrationSpec = Static<typeof MigrationSpecSchema>;
export type MigrationStatus = Static<typeof MigrationStatusSchema>;
export type MigrationCondition = Static<typeof ConditionSchema>;

/** `kubectl get servicemigrations` columns. */
export const MIGRATION_PRINTER_COLUMNS = [
  { name: 'Service', type: 'string', jsonPath: '.status.service' },
  { name: 'Phase', type: 'string', jsonPath: '.spec.phase' },
  { name: 'Split', type: 'string', jsonPath: '.status.split' },
  { name: 'Ready', type: 'string', jsonPath: '.status.ready' },
  { name: 'Synced', type: 'string', jsonPath: '.status.conditions[?(@.type=="Synced")].status' },
  { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
] as const;
