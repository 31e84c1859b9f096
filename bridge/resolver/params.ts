import { BridgeError } from '../errors/index.ts';

/** What fastify's query-string parser hands a route: repeated keys become arrays. */
export type Query = Readonly<Record<string, string | readonly string[] | undefined>>;

/** Endpoint filters shared by lookups, long-polls and event streams. */
export interface EndpointFilters {
  /** Only endpoints whose `ready` condition is true. */
  readonly healthy: boolean;
  readonly origin?: string;
  readonly zone?: string;
  /** Mesh mode (mesh.ts): the Kubernetes Service's DNS name instead of the instances. */
  readonly mesh: boolean;
}

/** A blocking query: answer once the service's index passes `index`, or after `waitMs`. */
export interface WatchParams {
  readonly index: number;
  readonly waitMs: number;
}

/** Consul's default; long enough to keep request rates low, short enough to cross most proxies. */
export const DEFAULT_WAIT_MS = 30_000;
/** Longer waits are clamped (as Consul does) rather than refused: the client still gets an answer. */
export const MAX_WAIT_MS = 5 * 60_000;

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

export function usage(message: string): BridgeError {
  return new BridgeError('ISTHMUS_USAGE', message);
}

function single(query: Query, key: string): string | undefined {
  const value = query[key];
  if (value === undefined || typeof value === 'string') return value;
  throw usage(`query parameter ${key} was given ${value.length} times; give it once`);
}

/** `500ms`, `10s`, `1.5m`, `2m` → milliseconds; a bare number is refused because its unit is a guess. */
export function parseDuration(text: string, key = 'wait'): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text.trim());
  const unit = m?.[2] === undefined ? undefined : UNIT_MS[m[2]];
  if (m?.[1] === undefined || unit === undefined) {
    throw usage(`${key}=${JSON.stringify(text)} is not a duration; use a number with a unit, like 500ms, 10s or 2m`);
  }
  return Math.round(Number(m[1]) * unit);
}

export function parseBool(text: string, key: string): boolean {
  switch (text) {
    case 'true':
    case '1':
      return true;
    case 'false':
    case '0':
      return false;
    default:
      throw usage(`${key}=${JSON.stringify(text)} must be true or false`);
  }
}

function nonEmpty(query: Query, key: string): string | undefined {
  const value = single(query, key);
  if (value === '') throw usage(`${key} must not be empty`);
  return value;
}

export function parseFilters(query: Query): EndpointFilters {
  const healthy = single(query, 'healthy');
  const origin = nonEmpty(query, 'origin');
  const zone = nonEmpty(query, 'zone');
  const mesh = single(query, 'mesh');
  return {
    healthy: healthy === undefined ? false : parseBool(healthy, 'healthy'),
    mesh: mesh === undefined ? false : parseBool(mesh, 'mesh'),
    ...(origin === undefined ? {} : { origin }),
    ...(zone === undefined ? {} : { zone }),
  };
}

/**
 * `index` and `wait` of a blocking query, or undefined for an immediate answer. As in Consul an
 * absent or zero index means "answer now"; `wait` without `index` is accepted and ignored so a
 * client's first call can carry the same parameters as the later ones.
 */
export function parseWatch(query: Query): WatchParams | undefined {
  const indexText = single(query, 'index');
  const waitText = single(query, 'wait');
  const waitMs = waitText === undefined ? DEFAULT_WAIT_MS : Math.min(parseDuration(waitText), MAX_WAIT_MS);
  if (indexText === undefined) return undefined;
  if (!/^\d{1,15}$/.test(indexText)) {
    throw usage(`index=${JSON.stringify(indexText)} must be a non-negative integer (the X-Isthmus-Index of the previous answer)`);
  }
  const index = Number(indexText);
  return index === 0 ? undefined : { index, waitMs };
}

/** `Last-Event-ID` of a reconnecting event stream; a malformed one is ignored (fresh snapshot). */
export function parseLastEventId(header: string | readonly string[] | undefined): number | undefined {
  if (typeof header !== 'string' || !/^\d{1,15}$/.test(header.trim())) return undefined;
  return Number(header.trim());
}
