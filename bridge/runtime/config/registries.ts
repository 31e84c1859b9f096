import type { TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { escapePointer, isPlainObject, schemaProblems } from './problems.ts';
import type { RegistryKinds } from './registry-kind.ts';
import { ID_PATTERN } from './schema.ts';
import type { ConfigProblem, RegistryConfig } from './types.ts';

const ID = new RegExp(ID_PATTERN);
const MAX_ID_LENGTH = 63;

export interface RegistriesResult {
  readonly registries: Record<string, RegistryConfig>;
  readonly problems: ConfigProblem[];
}

/**
 * Validates the `registries` map entry by entry against each kind's own option schema (applying
 * its defaults). The top-level schema only knows it is a map: kinds are supplied at run time.
 * Entries with problems are left out of `registries` so later checks do not pile up on them.
 */
export function validateRegistries(raw: unknown, kinds: RegistryKinds): RegistriesResult {
  const registries: Record<string, RegistryConfig> = {};
  const problems: ConfigProblem[] = [];
  if (!isPlainObject(raw)) return { registries, problems }; // the file schema reports it
  const known = Object.keys(kinds).sort().join(', ');
  for (const [id, entry] of Object.entries(raw)) {
    const path = `/registries/${escapePointer(id)}`;
    if (!ID.test(id) || id.length > MAX_ID_LENGTH) {
      problems.push({ path, message: `registry id "${id}" must be 1-${MAX_ID_LENGTH} characters of lowercase a-z, 0-9 and "-"` });
      continue;
    }
    if (!isPlainObject(entry)) {
      problems.push({ path, message: `must be a mapping with a "kind" (one of: ${known})` });
      continue;
    }
    const { kind, ...rest } = entry;
    if (typeof kind !== 'string') {
      problems.push({ path: `${path}/kind`, message: `is required (one of: ${known})` });
      continue;
    }
    const spec = Object.hasOwn(kinds, kind) ? kinds[kind] : undefined;
    if (spec === undefined) {
      problems.push({ path: `${path}/kind`, message: `unknown registry kind "${kind}" (known kinds: ${known})` });
      continue;
    }
    const schema = closedSchema(spec.optionsSchema);
    const options: unknown = Value.Default(schema, structuredClone(rest));
    const found = schemaProblems(schema, options, path);
    problems.push(...found);
    if (found.length === 0 && isPlainObject(options)) registries[id] = { kind, options };
  }
  return { registries, problems };
}

/**
 * A kind's object schema that says nothing about extra keys is closed here: a misspelt option
 * silently ignored is how a bridge ends up talking to the wrong server.
 */
export function closedSchema(schema: TSchema): TSchema {
  const s = schema as TSchema & { type?: unknown; additionalProperties?: unknown };
  return s.type === 'object' && s.additionalProperties === undefined ? { ...schema, additionalProperties: false } : schema;
}
