import type { TSchema } from '@sinclair/typebox';
import { Value, ValueErrorType } from '@sinclair/typebox/value';
import type { ValueError } from '@sinclair/typebox/value';
import type { ConfigProblem } from './types.ts';

/**
 * Every schema violation of `value`, as problems with JSON pointers under `prefix`. One problem
 * per path: TypeBox reports a missing property twice (required + wrong type) and the first is
 * the one a person needs.
 */
export function schemaProblems(schema: TSchema, value: unknown, prefix = ''): ConfigProblem[] {
  const byPath = new Map<string, ConfigProblem>();
  for (const error of Value.Errors(schema, value)) {
    const path = prefix + error.path;
    if (!byPath.has(path)) byPath.set(path, { path, message: describe(error) });
  }
  return [...byPath.values()];
}

function describe(error: ValueError): string {
  const schema = error.schema as TSchema & { errorMessage?: unknown; properties?: Record<string, unknown> };
  switch (error.type) {
    case ValueErrorType.ObjectAdditionalProperties: {
      const key = lastSegment(error.path);
      const allowed = Object.keys(schema.properties ?? {});
      return allowed.length > 0 ? `unknown key "${key}" (allowed: ${allowed.join(', ')})` : `unknown key "${key}"`;
    }
    case ValueErrorType.ObjectRequiredProperty:
      return 'is required';
    default:
      break;
  }
  if (typeof schema.errorMessage === 'string') return schema.errorMessage;
  if (error.type === ValueErrorType.Union) {
    const consts = literalChoices(schema);
    if (consts !== undefined) return `must be one of: ${consts.join(', ')}`;
  }
  return lowerFirst(error.message);
}

function literalChoices(schema: TSchema): string[] | undefined {
  const anyOf = (schema as { anyOf?: readonly { const?: unknown }[] }).anyOf;
  if (anyOf === undefined || !anyOf.every((s) => s.const !== undefined)) return undefined;
  return anyOf.map((s) => JSON.stringify(s.const));
}

function lastSegment(pointer: string): string {
  const raw = pointer.slice(pointer.lastIndexOf('/') + 1);
  return unescapePointer(raw);
}

export function unescapePointer(segment: string): string {
  return segment.replace(/~1/g, '/').replace(/~0/g, '~');
}

export function escapePointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

function lowerFirst(text: string): string {
  return text.length === 0 ? text : text.charAt(0).toLowerCase() + text.slice(1);
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
