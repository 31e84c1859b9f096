import type { TSchema } from '@sinclair/typebox';
import type { RegistryKinds } from './registry-kind.ts';
import { CHECK_KEYWORD, HINT_KEYWORD } from './references.ts';
import { closedSchema } from './registries.ts';
import { FileSchema, ID_PATTERN } from './schema.ts';

type Json = Record<string, unknown>;

/**
 * JSON Schema (2020-12) of the whole config file, for docs, editors and the Helm values
 * schema. Built from the same TypeBox definitions the loader enforces; `registries` becomes a
 * `oneOf` over the kinds, each discriminated by its `kind` constant. Cross-field rules (route
 * ends must be configured registries) cannot be expressed here and are only enforced by the
 * loader.
 */
export function configJsonSchema(kinds: RegistryKinds): Json {
  const file = plain(FileSchema);
  const properties = file['properties'] as Record<string, Json>;
  properties['registries'] = {
    type: 'object',
    description: 'Registry connections by id; routes name these ids.',
    minProperties: 1,
    propertyNames: { pattern: ID_PATTERN, maxLength: 63 },
    additionalProperties: {
      oneOf: Object.keys(kinds)
        .sort()
        .map((name) => kindSchema(name, kinds[name]?.optionsSchema)),
    },
  };
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'https://isthmus.dev/schema/config.json',
    title: 'Isthmus configuration',
    ...file,
  };
}

function kindSchema(name: string, options: TSchema | undefined): Json {
  const own = options === undefined ? {} : plain(closedSchema(options));
  const kind = { const: name, description: `Registry kind "${name}".` };
  if (own['type'] !== 'object' || own['properties'] === undefined) {
    // Not a plain object schema (a union, say): require the kind and defer the rest to it.
    return { title: name, allOf: [{ type: 'object', properties: { kind }, required: ['kind'] }, own] };
  }
  const required = Array.isArray(own['required']) ? (own['required'] as string[]) : [];
  return {
    ...own,
    title: name,
    type: 'object',
    properties: { kind, ...(own['properties'] as Json) },
    required: ['kind', ...required],
  };
}

const OWN_KEYWORDS = new Set(['errorMessage', CHECK_KEYWORD, HINT_KEYWORD]);

/**
 * TypeBox schemas are JSON plus symbol keys; this drops the symbols and our own keywords
 * (`errorMessage`, the reference checks), which mean nothing to other validators.
 * TypeBox lists every property without `Optional` as required, but the loader fills defaults
 * before it validates, so a property with a default is optional in the file an operator writes.
 */
function plain(schema: TSchema): Json {
  const json = JSON.parse(JSON.stringify(schema, (key, value: unknown) => (OWN_KEYWORDS.has(key) ? undefined : value))) as unknown;
  return withoutDefaultedRequired(json) as Json;
}

function withoutDefaultedRequired(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutDefaultedRequired);
  if (node === null || typeof node !== 'object') return node;
  const out: Json = {};
  for (const [key, value] of Object.entries(node as Json)) out[key] = withoutDefaultedRequired(value);
  const props = out['properties'] as Record<string, Json> | undefined;
  if (Array.isArray(out['required']) && props !== undefined) {
    const required = (out['required'] as string[]).filter((name) => props[name]?.['default'] === undefined);
    if (required.length === 0) delete out['required'];
    else out['required'] = required;
  }
  return out;
}
