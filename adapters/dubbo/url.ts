/**
 * Dubbo URLs as they appear in ZooKeeper znode names. Dubbo writes `URL.encode(url.toFullString())`
 * (java.net.URLEncoder: everything but `A-Za-z0-9.-*_` is %XX, a space is `+`) and parameter
 * values inside the URL are raw, so parsing decodes the name once and splits the query as is.
 */

export interface DubboUrl {
  readonly protocol: string;
  readonly host: string;
  readonly port: number;
  /** Path without the leading slash; Dubbo puts the interface name here. */
  readonly path: string;
  readonly params: Readonly<Record<string, string>>;
}

export type UrlParse = { readonly ok: true; readonly url: DubboUrl } | { readonly ok: false; readonly reason: string };

/**
 * `s` with every lone UTF-16 surrogate replaced by U+FFFD, as Java's UTF-8 encoder does;
 * `encodeURIComponent` throws on one, and a name from another registry may hold one.
 */
export function wellFormed(s: string): string {
  return s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
}

/** encodeURIComponent that never throws (lone surrogates become U+FFFD first). */
export function percentEncode(s: string): string {
  return encodeURIComponent(wellFormed(s));
}

/** java.net.URLEncoder.encode(s, UTF-8). */
export function javaUrlEncode(s: string): string {
  return percentEncode(s)
    .replace(/[!'()~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+');
}

/** java.net.URLDecoder.decode(s, UTF-8); undefined when the escapes are malformed. */
export function javaUrlDecode(s: string): string | undefined {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

const URL_RE = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(?:[^@/?]*@)?(\[[0-9A-Fa-f:.]+\]|[^/:?]*)(?::([^/?]*))?(?:\/([^?]*))?(?:\?(.*))?$/s;

/** Parses a decoded Dubbo URL; every rejection says why, for the quarantine list. */
export function parseDubboUrl(text: string): UrlParse {
  const m = URL_RE.exec(text);
  if (m === null) return { ok: false, reason: 'not a URL of the form protocol://host:port/path?params' };
  const [, protocol = '', rawHost = '', rawPort, path = '', query = ''] = m;
  const host = rawHost.startsWith('[') ? rawHost.slice(1, -1) : rawHost;
  if (host === '') return { ok: false, reason: 'URL has no host' };
  if (rawPort === undefined || rawPort === '') return { ok: false, reason: 'URL has no port' };
  if (!/^\d{1,5}$/.test(rawPort)) return { ok: false, reason: `URL port ${JSON.stringify(rawPort.slice(0, 16))} is not a number` };
  const port = Number(rawPort);
  if (port < 1 || port > 65535) return { ok: false, reason: `URL port ${port} is outside 1-65535` };
  const params: Record<string, string> = {};
  for (const pair of query.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    // Dubbo reads `key` alone as key=key; keep that so a round trip does not lose it.
    if (eq === -1) params[pair] = pair;
    else params[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return { ok: true, url: { protocol: protocol.toLowerCase(), host, port, path, params } };
}

/** The full URL string Dubbo would build: parameters sorted by key, so equal URLs are equal strings. */
export function formatDubboUrl(url: DubboUrl): string {
  const host = url.host.includes(':') ? `[${url.host}]` : url.host;
  const query = Object.keys(url.params)
    .sort()
    .map((k) => `${k}=${url.params[k] ?? ''}`)
    .join('&');
  return `${url.protocol}://${host}:${url.port}/${url.path}${query === '' ? '' : `?${query}`}`;
}

/** The znode name of a provider URL. */
export function urlNodeName(url: DubboUrl): string {
  return javaUrlEncode(formatDubboUrl(url));
}
