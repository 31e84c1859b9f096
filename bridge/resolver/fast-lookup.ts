import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Catalog } from '../catalog/index.ts';
import { MAX_NAME_LENGTH } from './limits.ts';
import type { EndpointFilters } from './params.ts';
import type { ResponseCache } from './response-cache.ts';
import { INDEX_HEADER, JSON_TYPE, serviceKey } from './routes.ts';

const PREFIX = '/v1/services/';
const UNFILTERED: EndpointFilters = { healthy: false, mesh: false };

export interface FastLookupDeps {
  readonly catalog: Catalog;
  readonly cache: ResponseCache;
  /** The /v1 auth hook's test for a read (token or console session); absent when /v1 is open. */
  readonly mayRead?: (req: IncomingMessage) => boolean;
}

/** Non-empty, within the router's parameter cap, and nothing the router would decode or split on. */
function plainSegment(s: string): boolean {
  if (s.length === 0 || s.length > MAX_NAME_LENGTH) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // % (escapes, decoded by the router), / ? # ; (delimiters)
    if (c === 0x25 || c === 0x2f || c === 0x3f || c === 0x23 || c === 0x3b) return false;
  }
  return true;
}

/**
 * The hot path behind DESIGN §12's 20,000 lookups/s: `GET /v1/services/<ns>/<name>` with no
 * query and no escapes in the names, whose answer the response cache already holds at the
 * service's current revision. That is answered on Node's own request and response, with the
 * status, headers and bytes fastify sends for it (http-resolver.test.ts compares the two);
 * everything else, a cache miss included, returns false and goes to fastify, which renders the
 * answer and caches it for the next caller. Fastify's routing and its request and reply objects
 * were most of what a cached lookup cost over a bare node:http server (the bench prints both).
 */
export function fastLookup(deps: FastLookupDeps): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    const url = req.url;
    if (req.method !== 'GET' || url === undefined || !url.startsWith(PREFIX)) return false;
    const slash = url.indexOf('/', PREFIX.length);
    if (slash === -1) return false;
    const ref = { namespace: url.slice(PREFIX.length, slash), name: url.slice(slash + 1) };
    if (!plainSegment(ref.namespace) || !plainSegment(ref.name)) return false;
    if (deps.mayRead !== undefined && !deps.mayRead(req)) return false;
    const entry = deps.catalog.get(ref);
    if (entry === undefined) return false;
    const body = deps.cache.peek(serviceKey(ref, UNFILTERED), entry.revision);
    if (body === undefined) return false;
    res.writeHead(200, { [INDEX_HEADER]: String(entry.revision), 'content-type': JSON_TYPE, 'content-length': body.length });
    res.end(body);
    return true;
  };
}
