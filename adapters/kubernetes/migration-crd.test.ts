import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import {
  MIGRATION_PHASES,
  MIGRATION_PRINTER_COLUMNS,
  MigrationSpecSchema,
  MigrationStatusSchema,
} from '../../bridge/runtime/config/migration-schema.ts';
import { serviceMigrationCrd, structuralSchema } from './migration-crd.ts';

type Json = Record<string, unknown>;

interface CrdShape {
  metadata: { name: string };
  spec: {
    group: string;
    scope: string;
    names: { kind: string; listKind: string; plural: string; singular: string; shortNames: string[]; categories: string[] };
    versions: {
      name: string;
      served: boolean;
      storage: boolean;
      subresources: Json;
      additionalPrinterColumns: { name: string; type: string; jsonPath: string }[];
      schema: { openAPIV3Schema: Json };
    }[];
  };
}

const crd = serviceMigrationCrd() as unknown as CrdShape;
const version = crd.spec.versions[0]!;
const root = version.schema.openAPIV3Schema;
const props = (node: unknown): Record<string, Json> => (node as { properties: Record<string, Json> }).properties;

/** Every schema node, with its path, depth first. */
function* nodes(node: Json, path = ''): Generator<[string, Json]> {
  yield [path, node];
  for (const [name, child] of Object.entries((node['properties'] ?? {}) as Record<string, Json>)) yield* nodes(child, `${path}.${name}`);
  if (typeof node['additionalProperties'] === 'object') yield* nodes(node['additionalProperties'] as Json, `${path}.*`);
  if (typeof node['items'] === 'object') yield* nodes(node['items'] as Json, `${path}[]`);
}

describe('serviceMigrationCrd', () => {
  it('names and scopes the resource', () => {
    expect(crd.metadata.name).toBe('servicemigrations.isthmus.dev');
    expect(crd.spec.group).toBe('isthmus.dev');
    expect(crd.spec.scope).toBe('Namespaced');
    expect(crd.spec.names).toEqual({
      kind: 'ServiceMigration',
      listKind: 'ServiceMigrationList',
      plural: 'servicemigrations',
      singular: 'servicemigration',
      shortNames: ['smig'],
      categories: ['isthmus'],
    });
    expect(crd.spec.versions).toHaveLength(1);
    expect(version).toMatchObject({ name: 'v1alpha1', served: true, storage: true, subresources: { status: {} } });
  });

  it('has the printer columns kubectl get shows', () => {
    expect(version.additionalPrinterColumns).toEqual(MIGRATION_PRINTER_COLUMNS.map((c) => ({ ...c })));
    expect(version.additionalPrinterColumns.map((c) => c.name)).toEqual(expect.arrayContaining(['Service', 'Phase', 'Split', 'Ready']));
  });

  it('carries every spec and status property of the TypeBox schemas', () => {
    expect(root['type']).toBe('object');
    expect(root['description']).toEqual(expect.any(String));
    const top = props(root);
    expect(Object.keys(props(top['spec'])).sort()).toEqual(Object.keys(MigrationSpecSchema.properties).sort());
    expect(Object.keys(props(top['status'])).sort()).toEqual(Object.keys(MigrationStatusSchema.properties).sort());
  });

  it('is structural: a type everywhere, nothing Kubernetes forbids or ignores', () => {
    const forbidden = ['patternProperties', 'anyOf', 'oneOf', 'allOf', 'const', '$id', 'errorMessage', '$schema', 'propertyNames'];
    for (const [path, node] of nodes(root)) {
      expect(node['type'], `type at ${path}`).toEqual(expect.any(String));
      for (const key of forbidden) expect(node[key], `${key} at ${path}`).toBeUndefined();
      expect(node['additionalProperties'], `additionalProperties: false at ${path}`).not.toBe(false);
      expect(Object.getOwnPropertySymbols(node), `TypeBox symbols at ${path}`).toEqual([]);
      if (node['properties'] !== undefined) expect(node['additionalProperties'], `properties and a map at ${path}`).toBeUndefined();
    }
    // The whole document must be plain JSON (it is written out as YAML).
    expect(JSON.parse(JSON.stringify(crd))).toEqual(crd);
  });

  it('turns the split Record into a map of bounded numbers', () => {
    const split = props(props(root)['spec'])['split']!;
    expect(split).toMatchObject({ type: 'object', minProperties: 1, additionalProperties: { type: 'number', minimum: 0, maximum: 10000 } });
    expect(split['description']).toEqual(expect.stringContaining('Share of calls'));
  });

  it('turns literal unions into enums', () => {
    expect(props(props(root)['spec'])['phase']).toMatchObject({ type: 'string', enum: [...MIGRATION_PHASES] });
    const conditions = props(props(root)['status'])['conditions']!;
    const condition = conditions['items'] as Json;
    expect(props(condition)['status']).toEqual({ type: 'string', enum: ['True', 'False', 'Unknown'] });
    expect(condition['required']).toEqual(expect.arrayContaining(['type', 'status', 'reason', 'message', 'lastTransitionTime']));
  });

  it('keeps value constraints: bounds, lengths, formats, required', () => {
    const status = props(props(root)['status']);
    expect(props(props(root)['spec'])['service']).toMatchObject({ type: 'string', minLength: 1, maxLength: 253 });
    expect(status['lastSync']).toEqual({ type: 'string', format: 'date-time' });
    const origin = status['origins']!['additionalProperties'] as Json;
    expect(origin['required']).toEqual(['ready', 'total']);
    expect(props(origin)['share']).toMatchObject({ type: 'number', minimum: 0, maximum: 100 });
    expect(props(status['sinks']!['additionalProperties'])['endpoints']).toMatchObject({ type: 'integer', minimum: 0 });
  });
});

describe('structuralSchema refuses what has no structural form', () => {
  it.each([
    ['a union of objects', Type.Union([Type.Object({ a: Type.String() }), Type.Object({ b: Type.String() })])],
    ['a mixed literal union', Type.Union([Type.Literal('a'), Type.Literal(1)])],
    ['an untyped value', Type.Object({ x: Type.Unknown() })],
    ['a tuple', Type.Tuple([Type.String(), Type.Number()])],
    ['an intersection', Type.Intersect([Type.Object({ a: Type.String() }), Type.Object({ b: Type.String() })])],
    ['an exclusive bound', Type.Number({ exclusiveMinimum: 0 })],
  ])('%s', (_name, schema) => {
    expect(() => structuralSchema(schema)).toThrow(/ServiceMigration schema/);
  });

  it('accepts a map of strings keyed by anything and drops the key pattern', () => {
    expect(structuralSchema(Type.Record(Type.String({ pattern: '^a' }), Type.String()))).toEqual({ type: 'object', additionalProperties: { type: 'string' } });
  });
});
