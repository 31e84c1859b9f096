import type { TSchema } from '@sinclair/typebox';
import {
  MIGRATION_GROUP,
  MIGRATION_KIND,
  MIGRATION_PLURAL,
  MIGRATION_PRINTER_COLUMNS,
  MIGRATION_VERSION,
  MigrationSpecSchema,
  MigrationStatusSchema,
} from '../../bridge/runtime/config/migration-schema.ts';

type Json = Record<string, unknown>;

/**
 * The apiextensions.k8s.io/v1 CustomResourceDefinition for ServiceMigration, with the
 * openAPIV3Schema derived from the TypeBox schemas the bridge validates with, so the apiserver
 * refuses what the bridge would refuse (as far as a structural schema can say it).
 *
 * What the apiserver cannot check, and the bridge still does when it reads an object: the key
 * pattern of `spec.split` (registry ids). Kubernetes forbids `patternProperties` and has no
 * key constraint for `additionalProperties` maps, so any key is admitted there.
 */
export function serviceMigrationCrd(): Json {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${MIGRATION_PLURAL}.${MIGRATION_GROUP}` },
    spec: {
      group: MIGRATION_GROUP,
      scope: 'Namespaced',
      names: {
        kind: MIGRATION_KIND,
        listKind: `${MIGRATION_KIND}List`,
        plural: MIGRATION_PLURAL,
        singular: MIGRATION_KIND.toLowerCase(),
        shortNames: ['smig'],
        categories: ['isthmus'],
      },
      versions: [
        {
          name: MIGRATION_VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: MIGRATION_PRINTER_COLUMNS.map((c) => ({ ...c })),
          schema: { openAPIV3Schema: rootSchema() },
        },
      ],
    },
  };
}

function rootSchema(): Json {
  return {
    type: 'object',
    description:
      'Moves one service between VM registries and Kubernetes: the traffic split per origin registry and the ' +
      'migration phase. The Isthmus bridge applies the split as endpoint weights and reports progress in status.',
    properties: {
      apiVersion: { type: 'string' },
      kind: { type: 'string' },
      metadata: { type: 'object' },
      spec: { ...structuralSchema(MigrationSpecSchema), description: 'The migration as the operator wants it.' },
      status: { ...structuralSchema(MigrationStatusSchema), description: 'What the bridge last observed and wrote.' },
    },
  };
}

// Value keywords a structural schema may carry unchanged. Everything else TypeBox emits
// (`$id`, our `errorMessage`, symbol keys) either means nothing to the apiserver or is
// rejected by it; `additionalProperties: false` is rejected too, pruning does that job.
const KEPT = new Set([
  'type', 'description', 'title', 'format', 'default', 'enum', 'nullable', 'required',
  'minimum', 'maximum', 'multipleOf', 'minLength', 'maxLength', 'pattern',
  'minItems', 'maxItems', 'minProperties', 'maxProperties',
]);

/**
 * A TypeBox schema as a Kubernetes structural schema. Throws on shapes that have no structural
 * equivalent, so a schema change that cannot be published fails at generation time instead of
 * producing a CRD the apiserver refuses or that silently checks less.
 */
export function structuralSchema(schema: TSchema): Json {
  // JSON round trip drops TypeBox's symbol keys ([Kind], [OptionalKind]).
  return convert(JSON.parse(JSON.stringify(schema)) as Json, '');
}

function convert(node: Json, path: string): Json {
  const out: Json = {};
  for (const [key, value] of Object.entries(node)) if (KEPT.has(key)) out[key] = value;

  if (node['const'] !== undefined) out['enum'] = [node['const']];
  if (typeof node['exclusiveMinimum'] === 'number' || typeof node['exclusiveMaximum'] === 'number') {
    // Draft 2019 numeric form; OpenAPI 3.0 wants a boolean next to minimum/maximum.
    throw new Error(`${where(path)}: exclusiveMinimum/exclusiveMaximum not supported, use minimum/maximum`);
  }

  const anyOf = node['anyOf'] ?? node['oneOf'];
  if (anyOf !== undefined) Object.assign(out, literalUnion(anyOf, path));

  const properties = node['properties'] as Record<string, Json> | undefined;
  if (properties !== undefined) {
    out['properties'] = Object.fromEntries(Object.entries(properties).map(([name, p]) => [name, convert(p, `${path}.${name}`)]));
  }

  const patterns = node['patternProperties'] as Record<string, Json> | undefined;
  const additional = node['additionalProperties'];
  if (patterns !== undefined) {
    const [value, ...more] = Object.values(patterns);
    if (value === undefined || more.length > 0 || properties !== undefined) {
      throw new Error(`${where(path)}: only a map with one value schema (a TypeBox Record) has a structural form`);
    }
    out['additionalProperties'] = convert(value, `${path}.*`);
  } else if (typeof additional === 'object' && additional !== null) {
    out['additionalProperties'] = convert(additional as Json, `${path}.*`);
  } else if (additional === true) {
    throw new Error(`${where(path)}: open objects would need x-kubernetes-preserve-unknown-fields; give the object its properties`);
  }

  const items = node['items'];
  if (items !== undefined) {
    if (Array.isArray(items) || typeof items !== 'object' || items === null) throw new Error(`${where(path)}: tuples have no structural form`);
    out['items'] = convert(items as Json, `${path}[]`);
  }

  for (const unsupported of ['allOf', 'not', 'if', 'then', 'else', '$ref', 'dependencies', 'propertyNames', 'uniqueItems']) {
    if (node[unsupported] !== undefined) throw new Error(`${where(path)}: ${unsupported} has no structural form`);
  }
  if (typeof out['type'] !== 'string') throw new Error(`${where(path)}: a structural schema needs a type at every level`);
  if (out['type'] === 'array' && out['items'] === undefined) throw new Error(`${where(path)}: an array needs items`);
  return ordered(out);
}

// Fixed key order (type first, nested schemas last) keeps the generated YAML readable and its
// diffs independent of the order TypeBox happens to emit options in.
const ORDER = [...KEPT, 'properties', 'additionalProperties', 'items'];

function ordered(node: Json): Json {
  return Object.fromEntries(Object.entries(node).sort(([a], [b]) => ORDER.indexOf(a) - ORDER.indexOf(b)));
}

/** `Union([Literal('a'), Literal('b')])` → `{type: string, enum: [a, b]}`; other unions cannot be structural. */
function literalUnion(anyOf: unknown, path: string): Json {
  const branches = Array.isArray(anyOf) ? (anyOf as Json[]) : [];
  const types = new Set(branches.map((b) => b['type']));
  const [type] = types;
  if (branches.length === 0 || types.size !== 1 || typeof type !== 'string' || branches.some((b) => b['const'] === undefined)) {
    throw new Error(`${where(path)}: only unions of literals of one type have a structural form`);
  }
  return { type, enum: branches.map((b) => b['const']) };
}

function where(path: string): string {
  return `ServiceMigration schema ${path === '' ? '(root)' : path.slice(1)}`;
}
