import type { TSchema } from '@sinclair/typebox';
import { escapePointer, isPlainObject } from './problems.ts';
import { secretFileProblem } from './secret-file.ts';
import type { ConfigProblem } from './types.ts';

// Some config values point outside the file: at a secret file, at an environment variable, at
// a server address. Their type says nothing about whether they work, so option schemas mark
// them with our own keyword and the loader checks the values it finds there. Marking the
// schema (rather than listing paths here) keeps bridge/ free of adapter knowledge (DESIGN §3)
// and a new option is checked the moment it is declared.

/** Schema keyword naming the check; stripped from the published JSON Schema. */
export const CHECK_KEYWORD = 'x-isthmus-check';
/** What to write instead, for address checks. */
export const HINT_KEYWORD = 'x-isthmus-hint';

type Check = 'secret-file' | 'secret-env' | 'address';

/** Marks a string option holding the path of a file with a secret (token, password, key, kubeconfig). */
export const SECRET_FILE = { [CHECK_KEYWORD]: 'secret-file' } as const;
/** Marks a string option naming an environment variable that holds a secret. */
export const SECRET_ENV = { [CHECK_KEYWORD]: 'secret-env' } as const;
/**
 * Marks a server address (URL, host:port, connect string) that must not carry credentials;
 * `hint` says where they go instead, e.g. 'put the ACL token in tokenFile'.
 */
export function credentialFree(hint: string): Readonly<Record<string, string>> {
  return { [CHECK_KEYWORD]: 'address', [HINT_KEYWORD]: hint };
}

interface Reference {
  readonly path: string;
  readonly check: Check;
  readonly value: string;
  readonly hint?: string;
}

/** Every marked string under `value`, walked along `schema` (object properties and array items). */
export function findReferences(schema: TSchema, value: unknown, prefix = ''): Reference[] {
  const out: Reference[] = [];
  walk(schema, value, prefix, out);
  return out;
}

function walk(schema: TSchema, value: unknown, path: string, out: Reference[]): void {
  const s = schema as TSchema & { properties?: Record<string, TSchema>; items?: TSchema | TSchema[] };
  const check = s[CHECK_KEYWORD] as unknown;
  if (typeof check === 'string' && typeof value === 'string') {
    const hint = s[HINT_KEYWORD] as unknown;
    out.push({ path, check: check as Check, value, ...(typeof hint === 'string' ? { hint } : {}) });
    return;
  }
  if (isPlainObject(value) && s.properties !== undefined) {
    for (const [key, sub] of Object.entries(s.properties)) {
      if (Object.hasOwn(value, key)) walk(sub, value[key], `${path}/${escapePointer(key)}`, out);
    }
  }
  if (Array.isArray(value) && s.items !== undefined && !Array.isArray(s.items)) {
    const items = s.items;
    value.forEach((v: unknown, i) => { walk(items, v, `${path}/${i}`, out); });
  }
}

export interface ReferenceCheckOptions {
  /** Look at this machine: files exist and hold a secret, named variables are set. */
  readonly secrets: boolean;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** Problems with what the references point at. Messages name files and variables, never secrets. */
export function referenceProblems(refs: readonly Reference[], options: ReferenceCheckOptions): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const ref of refs) {
    const message = problemOf(ref, options);
    if (message !== undefined) problems.push({ path: ref.path, message });
  }
  return problems;
}

function problemOf(ref: Reference, options: ReferenceCheckOptions): string | undefined {
  switch (ref.check) {
    case 'address':
      return carriesCredentials(ref.value) ? `must not carry credentials (user:password@ or a token parameter)${ref.hint === undefined ? '' : `; ${ref.hint}`}` : undefined;
    case 'secret-file':
      return options.secrets ? secretFileProblem(ref.value) : undefined;
    case 'secret-env': {
      if (!options.secrets) return undefined;
      const value = options.env[ref.value];
      if (value === undefined) return `environment variable ${ref.value} is not set`;
      return value.trim() === '' ? `environment variable ${ref.value} is empty` : undefined;
    }
    default:
      return undefined;
  }
}

/**
 * Userinfo before the host (`http://user:pass@host`, `user:pass@zk1:2181,zk2:2181`) or a
 * token/password query parameter. Such an address leaks the secret into every log line and
 * error that names the server, and none of our clients sends userinfo anyway.
 */
export function carriesCredentials(address: string): boolean {
  const rest = address.trim().replace(/^[a-z][a-z0-9+.-]*:\/\//i, '');
  const authority = rest.split(/[/?#]/, 1)[0] ?? '';
  if (authority.includes('@')) return true;
  return /[?&](?:access_?token|token|password|passwd|secret)=/i.test(rest);
}
