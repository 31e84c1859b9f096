import { isPlainObject } from './problems.ts';
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

/** Mutates `raw` (a private copy of the parsed file); returns problems with the variables themselves. */
export function applyEnvOverrides(raw: Record<string, unknown>, env: EnvSource): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const [name, { path, numeric }] of Object.entries(ENV_OVERRIDES)) {
    const text = env[name];
    if (text === undefined || text === '') continue;
    if (numeric && !/^\d+$/.test(text)) {
      problems.push({ path: `env ${name}`, message: `must be a port number, got "${text}"` });
      continue;
    }
    setIn(raw, path, numeric ? Number(text) : text);
  }
  return problems;
}

/** Creates missing parents; leaves a non-object parent alone so validation reports the file's mistake. */
function setIn(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key] ?? {};
    if (!isPlainObject(next)) return;
    node[key] = next;
    node = next;
  }
  const last = path[path.length - 1];
  if (last !== undefined) node[last] = value;
}
