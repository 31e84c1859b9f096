import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Catalog } from '../catalog/index.ts';
import { MAX_NAME_LENGTH } from './limits.ts';
import type { EndpointFilters } from './params.ts';
import type { ResponseCache } from './response-cache.ts';
import { INDEX_HEADER, JSON_TYPE, serviceKey } from './routes.ts';

const PREFIX = '/v1/services/';
const UNFILTERED: EndpointFilters = { healthy: false, mesh: false };
const HEALTHY: EndpointFilters = { healthy: true, mesh: false };

export interface FastLookupDeps {
  readonly catalog: Catalog;
  readonly cache: ResponseCache;
  /** The /v1 auth hook's test for a read (token or console session); absent when /v1 is open. */
  readonly mayRead?: (req: IncomingMessage) => boolean;
}

/**
 * A path segment as the router hands it to the route: within its parameter cap (counted before
 * decoding, as it counts), percent-decoded; undefined for anything it would treat otherwise.
 */
function segment(raw: string): string | undefined {
  if (raw.length === 0 || raw.length > MAX_NAME_LENGTH || raw.includes(';')) return undefined;
  if (!raw.includes('%')) return raw;
  try {
    return decodeURIComponent(raw);
  } catch {
    // A malformed escape is the router's 400 to give.
    return undefined;
  }
}

/** The only queries taken here: none, or the SDK's `healthy=true`; anything else is fastify's. */
function filtersOf(query: string | undefined): EndpointFilters | undefined {
  if (query === undefined) return UNFILTERED;
  return query === 'healthy=true' ? HEALTHY : undefined;
}

/**
 * The hot path behind DESIGN §12's 20,000 lookups/s: `GET /v1/services/<ns>/<name>`, with no
 * query or the SDK's `?healthy=true`, whose answer the response cache already holds at the
 * service's current revision. Names are decoded as the router decodes them (the SDK escapes
 * Dubbo's `:`). That is answered on Node's own request and response, with the
 * status, headers and bytes fastify sends for it (http-resolver.test.ts compares the two);
 * everything else, a cache miss included, returns false and goes to fastify, which renders the
 * answer and caches it for the next caller. Fastify's routing and its request and reply objects
 * were most of what a cached lookup cost over a bare node:http server (the bench prints both).
 */
export function fastLookup(deps: FastLookupDeps): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    const url = req.url;
    if (req.method !== 'GET' || url === undefined || !url.startsWith(PREFIX)) return false;
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const filters = filtersOf(q === -1 ? undefined : url.slice(q + 1));
    const slash = path.indexOf('/', PREFIX.length);
    if (filters === undefined || slash === -1 || path.includes('#')) return false;
    const namespace = segment(path.slice(PREFIX.length, slash));
    const name = segment(path.slice(slash + 1));
    if (namespace === undefined || name === undefined || path.indexOf('/', slash + 1) !== -1) return false;
    const ref = { namespace, name };
    if (deps.mayRead !== undefined && !deps.mayRead(req)) return false;
    const entry = deps.catalog.get(ref);
    if (entry === undefined) return false;
    const body = deps.cache.peek(serviceKey(ref, filters), entry.revision);
    if (body === undefined) return false;
    res.writeHead(200, { [INDEX_HEADER]: String(entry.revision), 'content-type': JSON_TYPE, 'content-length': body.length });
    res.end(body);
    return true;
  };
}
