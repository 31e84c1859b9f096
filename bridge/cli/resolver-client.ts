import { BridgeError } from '../errors/index.ts';
import { readSecretFile } from '../runtime/config/index.ts';
import type { EnvSource } from '../runtime/config/index.ts';
import { parseDuration, stringFlag, usageError } from './args.ts';
import type { Values } from './args.ts';

export const DEFAULT_URL = 'http://127.0.0.1:8080';
const DEFAULT_TIMEOUT_MS = 10_000;

/** Flags every resolver command shares. */
export const CONNECTION_OPTIONS = {
  url: { type: 'string' },
  'token-file': { type: 'string' },
  timeout: { type: 'string' },
} as const;

export const CONNECTION_HELP = `  --url URL            resolver HTTP address (default: $ISTHMUS_URL, else ${DEFAULT_URL})
  --token-file FILE    send "Authorization: Bearer <token>" read from FILE (needed when
                       the bridge sets resolver.auth.tokenFile)
  --timeout DURATION   give up after this long (default 10s; e.g. 500ms, 30s, 2m)`;

export interface Connection {
  readonly baseUrl: string;
  readonly token?: string;
  readonly timeoutMs: number;
  readonly fetch: typeof fetch;
}

export function connectionFrom(values: Values, command: string, env: EnvSource, fetchImpl: typeof fetch): Connection {
  const raw = stringFlag(values, 'url') ?? (env['ISTHMUS_URL'] || undefined) ?? DEFAULT_URL;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw usageError(`--url "${raw}" is not a URL`, command);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw usageError(`--url must be http:// or https://, got "${raw}"`, command);
  const timeoutText = stringFlag(values, 'timeout');
  const timeoutMs = timeoutText === undefined ? DEFAULT_TIMEOUT_MS : parseDuration(timeoutText);
  if (timeoutMs === undefined || timeoutMs <= 0) throw usageError(`--timeout "${timeoutText ?? ''}" is not a duration like 10s`, command);
  const tokenFile = stringFlag(values, 'token-file');
  return {
    baseUrl: url.href.replace(/\/+$/, ''),
    ...(tokenFile === undefined ? {} : { token: readSecretFile(tokenFile) }),
    timeoutMs,
    fetch: fetchImpl,
  };
}

export type Answer<T> = { readonly found: true; readonly body: T } | { readonly found: false; readonly message: string };

/**
 * GET a JSON document from the resolver. 404 is an answer (`found: false`), not an error;
 * everything else that is not 2xx becomes an error whose message says what to do next.
 */
export async function getJson<T>(conn: Connection, path: string): Promise<Answer<T>> {
  return sendJson<T>(conn, 'GET', path);
}

/** Like getJson, for any method; `body` is sent as JSON. Errors (400 included) throw with the resolver's message. */
export async function sendJson<T>(conn: Connection, method: string, path: string, body?: unknown): Promise<Answer<T>> {
  const url = conn.baseUrl + path;
  let response: Response;
  try {
    response = await conn.fetch(url, {
      method,
      headers: {
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(conn.token === undefined ? {} : { authorization: `Bearer ${conn.token}` }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(conn.timeoutMs),
    });
  } catch (err) {
    throw unreachable(conn.baseUrl, reasonOf(err, conn.timeoutMs), err);
  }
  const text = await response.text();
  const error = errorBody(text);
  if (response.status === 404) return { found: false, message: error?.message ?? 'not found' };
  if (response.status === 403 && error?.code === 'ISTHMUS_FORBIDDEN') {
    // The bridge refuses this for everyone (no token configured there): a token here cannot help.
    throw new BridgeError('ISTHMUS_FORBIDDEN', `the resolver at ${conn.baseUrl} refused the request: ${error.message}`);
  }
  if (response.status === 401 || response.status === 403) {
    throw new BridgeError(
      'ISTHMUS_UNAUTHENTICATED',
      `the resolver at ${conn.baseUrl} refused the request (${response.status}): ${error?.message ?? 'no or wrong token'}; pass --token-file with the bridge's resolver token`,
    );
  }
  if (response.status === 400 && error !== undefined) {
    throw new BridgeError('ISTHMUS_USAGE', `the resolver at ${conn.baseUrl} refused the request: ${error.message}`);
  }
  if (!response.ok) {
    const what = error === undefined ? `HTTP ${response.status}` : `${error.code}: ${error.message}`;
    throw new BridgeError('ISTHMUS_RESOLVER_UNREACHABLE', `the resolver at ${conn.baseUrl} answered ${url.slice(conn.baseUrl.length)} with ${what}`);
  }
  try {
    return { found: true, body: JSON.parse(text) as T };
  } catch (err) {
    throw unreachable(conn.baseUrl, `the answer to ${path} is not JSON; is ${conn.baseUrl} an Isthmus resolver?`, err);
  }
}

function unreachable(baseUrl: string, reason: string, cause: unknown): BridgeError {
  return new BridgeError(
    'ISTHMUS_RESOLVER_UNREACHABLE',
    `cannot reach the Isthmus resolver at ${baseUrl}: ${reason}; is the bridge running? pass --url (or set ISTHMUS_URL)`,
    { cause },
  );
}

/**
 * fetch reports every failure as "fetch failed" and hides the reason in `cause` (an errno code,
 * an AggregateError when both IPv4 and IPv6 were tried, or a plain message such as "bad port").
 */
function reasonOf(err: unknown, timeoutMs: number): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) return `no answer within ${timeoutMs} ms`;
  let e: unknown = err;
  let innermost = err instanceof Error ? err.message : String(err);
  for (let depth = 0; depth < 5 && e instanceof Error; depth++) {
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && !code.startsWith('UND_ERR')) return code;
    innermost = e.message || innermost;
    e = e instanceof AggregateError && e.errors.length > 0 ? (e.errors[0] as unknown) : e.cause;
  }
  return innermost;
}

function errorBody(text: string): { code: string; message: string } | undefined {
  try {
    const body = JSON.parse(text) as unknown;
    if (typeof body === 'object' && body !== null && 'message' in body && typeof body.message === 'string') {
      const code = 'code' in body && typeof body.code === 'string' ? body.code : 'error';
      return { code, message: body.message };
    }
  } catch {
    // not JSON: fall back to the status line
  }
  return undefined;
}

/** `/ns/name` with each part escaped, from the `namespace/name` argument. */
export function refPath(ref: { namespace: string; name: string }): string {
  return `/${encodeURIComponent(ref.namespace)}/${encodeURIComponent(ref.name)}`;
}
