import { Value } from '@sinclair/typebox/value';
import type { Document, LineCounter } from 'yaml';
import { BridgeError } from '../../errors/index.ts';
import { applyEnvOverrides, attributeToEnv } from './env.ts';
import type { EnvSource } from './env.ts';
import { deepFreeze } from './freeze.ts';
import { isPlainObject, schemaProblems, unescapePointer } from './problems.ts';
import { findReferences, referenceProblems } from './references.ts';
import type { RegistryKinds } from './registry-kind.ts';
import { closedSchema, validateRegistries } from './registries.ts';
import { expandRoutes, routeProblems } from './routes.ts';
import { FileSchema } from './schema.ts';
import type { FileRoute } from './schema.ts';
import type { Config, ConfigProblem, LogConfig, RegistryConfig, ResolverConfig, SyncConfig } from './types.ts';
import { parseYaml, readConfigText } from './yaml-text.ts';

export interface ParseOptions {
  /** Environment for the overrides (env.ts) and for `*Env` options; defaults to `process.env`. */
  readonly env?: EnvSource;
  /** Name used in messages, usually the file path. */
  readonly source?: string;
  /**
   * Also check what the config points to on this machine: every secret file exists, is
   * readable and holds more than whitespace; every variable a `*Env` option names is set.
   * Off for `parseConfig` (text, possibly from another machine), on for `loadConfig`.
   */
  readonly checkSecrets?: boolean;
}

/**
 * Reads and parses a config file, checking its secret files too (see ParseOptions). Throws
 * ISTHMUS_CONFIG_UNREADABLE or ISTHMUS_CONFIG_INVALID, naming the file.
 */
export function loadConfig(path: string, kinds: RegistryKinds, options: Omit<ParseOptions, 'source'> = {}): Config {
  return parseConfig(readConfigText(path), kinds, { checkSecrets: true, ...options, source: path });
}

/**
 * YAML text → validated, defaulted, deep-frozen Config. Every problem is collected before
 * throwing, so an operator fixes the file in one round instead of one error per attempt.
 */
export function parseConfig(yamlText: string, kinds: RegistryKinds, options: ParseOptions = {}): Config {
  const source = options.source ?? 'config';
  const env = options.env ?? process.env;
  const { doc, lines, data } = parseYaml(yamlText, source);
  const parsed: unknown = data ?? {};
  if (!isPlainObject(parsed)) {
    throw invalid(source, [{ path: '', message: 'the file must be a YAML mapping (bridge, registries, routes…)' }]);
  }

  const raw = structuredClone(parsed);
  const overrides = applyEnvOverrides(raw, env);
  const problems: ConfigProblem[] = [...overrides.problems];
  const file = Value.Default(FileSchema, raw) as Record<string, unknown>;
  problems.push(...schemaProblems(FileSchema, file));
  const { registries, problems: registryProblems } = validateRegistries(file['registries'], kinds);
  problems.push(...registryProblems);
  const rawIds = isPlainObject(file['registries']) ? Object.keys(file['registries']) : [];
  problems.push(...routeProblems(file['routes'], registries, rawIds, kinds));
  problems.push(...syncProblems(file['sync']));
  problems.push(...weightProblems(file['weights'], registries));
  const refs = [...findReferences(FileSchema, file), ...registryReferences(registries, kinds)];
  problems.push(...referenceProblems(refs, { secrets: options.checkSecrets ?? false, env }));

  if (problems.length > 0) throw invalid(source, withLines(problems.map((p) => attributeToEnv(p, overrides.applied)), doc, lines));

  // The schema and cross-checks passed, so the shapes below hold.
  const config: Config = {
    bridge: { id: (file['bridge'] as { id: string }).id },
    registries,
    routes: expandRoutes(file['routes'] as FileRoute[]),
    sync: file['sync'] as SyncConfig,
    resolver: file['resolver'] as ResolverConfig,
    weights: file['weights'] as Config['weights'],
    log: file['log'] as LogConfig,
  };
  return deepFreeze(config);
}

/** References inside each valid registry's options, found through its kind's own schema. */
function registryReferences(registries: Readonly<Record<string, RegistryConfig>>, kinds: RegistryKinds): ReturnType<typeof findReferences> {
  return Object.entries(registries).flatMap(([id, reg]) => {
    const kind = kinds[reg.kind];
    return kind === undefined ? [] : findReferences(closedSchema(kind.optionsSchema), reg.options, `/registries/${id}`);
  });
}

/** Orderings the schema cannot express. */
function syncProblems(sync: unknown): ConfigProblem[] {
  if (!isPlainObject(sync)) return [];
  const out: ConfigProblem[] = [];
  const pairs = [
    ['quietMs', 'maxDelayMs'],
    ['retryBaseMs', 'retryMaxMs'],
  ] as const;
  for (const [low, high] of pairs) {
    const a = sync[low];
    const b = sync[high];
    if (typeof a === 'number' && typeof b === 'number' && a > b) {
      out.push({ path: `/sync/${low}`, message: `must not exceed ${high} (${b})` });
    }
  }
  return out;
}

/** Shares naming a registry the file does not configure are typos, not a way to drain it. */
function weightProblems(weights: unknown, registries: Readonly<Record<string, unknown>>): ConfigProblem[] {
  if (!isPlainObject(weights)) return [];
  const out: ConfigProblem[] = [];
  for (const [service, split] of Object.entries(weights)) {
    if (!isPlainObject(split)) continue;
    const key = service.replaceAll('~', '~0').replaceAll('/', '~1');
    if (!/^[^/]+\/[^/]+$/.test(service)) out.push({ path: `/weights/${key}`, message: 'must be a service as namespace/name' });
    for (const registry of Object.keys(split)) {
      if (!(registry in registries)) out.push({ path: `/weights/${key}/${registry}`, message: `registry ${registry} is not configured` });
    }
    if (Object.values(split).every((v) => v === 0)) out.push({ path: `/weights/${key}`, message: 'at least one share must be above 0' });
  }
  return out;
}

function invalid(source: string, problems: readonly ConfigProblem[]): BridgeError {
  const list = problems.map((p) => `  ${formatProblem(p)}`).join('\n');
  const noun = problems.length === 1 ? 'problem' : 'problems';
  return new BridgeError('ISTHMUS_CONFIG_INVALID', `${source} has ${problems.length} ${noun}:\n${list}`, {
    terminal: true,
    details: { file: source, problems },
  });
}

/** `path: message (line N)` or `path: message (from $VAR)`: the one format the CLI, logs and errors all use. */
export function formatProblem(p: ConfigProblem): string {
  const where = p.env !== undefined ? ` (from $${p.env})` : p.line === undefined ? '' : ` (line ${p.line})`;
  return `${p.path === '' ? '/' : p.path}: ${p.message}${where}`;
}

/**
 * Adds the YAML line of each path (or of its nearest written parent) and sorts in file order;
 * problems with environment variables come first, since those are applied first, and get no
 * line: the file is not where the value came from.
 */
function withLines(problems: readonly ConfigProblem[], doc: Document, lines: LineCounter): ConfigProblem[] {
  return problems
    .map((p, i) => {
      if (p.env !== undefined) return { p, key: -1, i };
      const offset = offsetOf(p.path, doc);
      const key = offset ?? Infinity;
      return { p: offset === undefined ? p : { ...p, line: lines.linePos(offset).line }, key, i };
    })
    .sort((a, b) => a.key - b.key || a.i - b.i)
    .map(({ p }) => p);
}

function offsetOf(pointer: string, doc: Document): number | undefined {
  if (!pointer.startsWith('/')) return undefined;
  const segments: (string | number)[] = pointer
    .slice(1)
    .split('/')
    .map((s) => (/^\d+$/.test(s) ? Number(s) : unescapePointer(s)));
  for (let n = segments.length; n > 0; n--) {
    const node: unknown = doc.getIn(segments.slice(0, n), true);
    const offset = (node as { range?: readonly number[] } | undefined)?.range?.[0];
    if (offset !== undefined) return offset;
  }
  return undefined;
}
