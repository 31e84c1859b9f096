import { escapePointer, isPlainObject } from './problems.ts';
import type { ConfigProblem } from './types.ts';

/**
 * Environment variables that override the file, applied before validation so an override is
 * checked like the file itself. They exist for what differs per replica or per environment
 * while the file stays shared (a ConfigMap, a package's /etc/isthmus):
 *
 * | variable            | overrides             |
 * |---------------------|-----------------------|
 * | ISTHMUS_BRIDGE_ID   | bridge.id             |
 * | ISTHMUS_LOG_LEVEL   | log.level             |
 * | ISTHMUS_HTTP_PORT   | resolver.http.port    |
 * | ISTHMUS_GRPC_PORT   | resolver.grpc.port    |
 *
 * An empty variable counts as unset.
 */
export const ENV_OVERRIDES = {
  ISTHMUS_BRIDGE_ID: { path: ['bridge', 'id'], numeric: false },
  ISTHMUS_LOG_LEVEL: { path: ['log', 'level'], numeric: false },
  ISTHMUS_HTTP_PORT: { path: ['resolver', 'http', 'port'], numeric: true },
  ISTHMUS_GRPC_PORT: { path: ['resolver', 'grpc', 'port'], numeric: true },
} as const;

export type EnvSource = Readonly<Record<string, string | undefined>>;

export interface EnvResult {
  /** Problems with the variables' own format, already attributed to them. */
  readonly problems: ConfigProblem[];
  /** JSON pointer → the variable whose value now sits there, for attributing later problems. */
  readonly applied: ReadonlyMap<string, string>;
}

/** Mutates `raw` (a private copy of the parsed file). */
export function applyEnvOverrides(raw: Record<string, unknown>, env: EnvSource): EnvResult {
  const problems: ConfigProblem[] = [];
  const applied = new Map<string, string>();
  for (const [name, { path, numeric }] of Object.entries(ENV_OVERRIDES)) {
    const text = env[name];
    if (text === undefined || text === '') continue;
    const pointer = `/${path.map(escapePointer).join('/')}`;
    if (numeric && !/^\d+$/.test(text)) {
      problems.push({ path: pointer, message: `must be a port number, got "${text}"`, env: name });
      continue;
    }
    if (setIn(raw, path, numeric ? Number(text) : text)) applied.set(pointer, name);
  }
  return { problems, applied };
}

/**
 * A problem at (or under) a value an override put there is the variable's mistake: it names
 * the variable, and no file line, since the file may not even mention the key.
 */
export function attributeToEnv(problem: ConfigProblem, applied: ReadonlyMap<string, string>): ConfigProblem {
  if (problem.env !== undefined) return problem;
  for (const [pointer, name] of applied) {
    if (problem.path === pointer || problem.path.startsWith(`${pointer}/`)) return { ...problem, env: name };
  }
  return problem;
}

/** Creates missing parents; leaves a non-object parent alone so validation reports the file's mistake. */
function setIn(target: Record<string, unknown>, path: readonly string[], value: unknown): boolean {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key] ?? {};
    if (!isPlainObject(next)) return false;
    node[key] = next;
    node = next;
  }
  const last = path[path.length - 1];
  if (last === undefined) return false;
  node[last] = value;
  return true;
}
