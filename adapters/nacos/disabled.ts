import { describeError } from '../../bridge/errors/index.ts';
import type { EngineLogger } from '../../bridge/sync/logger-port.ts';
import type { TokenSource } from './auth.ts';
import type { NacosInstance, NacosName } from './native.ts';

export interface DisabledLookupOptions {
  /** HTTP base including the context path, e.g. http://10.0.0.5:8848/nacos. */
  readonly baseUrl: string;
  readonly namespace: string;
  readonly registry: string;
  readonly requestTimeoutMs: number;
  readonly tokens?: TokenSource;
  readonly logger?: EngineLogger;
  readonly fetch?: typeof fetch;
}

/**
 * Nacos never sends a disabled (`enabled=false`) instance to subscribers or queries, so an
 * instance an operator takes offline in the console looks exactly like one that left. DESIGN §5
 * wants it draining, not gone (a disappearance is a removal the deletion guard may hold). The
 * 3.x admin API does list disabled instances: the source asks it only when a push drops an
 * instance it had, so the cost is one HTTP request per such push.
 *
 * Never throws. Where the API is missing (2.x: 404) or refused (a user without admin rights:
 * 401/403) it turns itself off for the process and says so once; the source then behaves as
 * before (a disabled instance leaves the set).
 */
export class DisabledLookup {
  readonly #o: DisabledLookupOptions;
  #off = false;
  /** Lookups sent (tests and measurements). */
  requests = 0;

  constructor(o: DisabledLookupOptions) {
    this.#o = o;
  }

  get available(): boolean {
    return !this.#off;
  }

  /** The disabled instances of `n`, or [] when that cannot be known now. */
  async disabled(n: NacosName): Promise<NacosInstance[]> {
    if (this.#off) return [];
    const query = new URLSearchParams({ namespaceId: this.#o.namespace, groupName: n.group, serviceName: n.service, healthyOnly: 'false' });
    this.requests++;
    try {
      const headers: Record<string, string> = {};
      if (this.#o.tokens !== undefined) headers['accessToken'] = await this.#o.tokens.token();
      const res = await (this.#o.fetch ?? fetch)(`${this.#o.baseUrl}/v3/admin/ns/instance/list?${query.toString()}`, { headers, signal: AbortSignal.timeout(this.#o.requestTimeoutMs) });
      const body = (await res.json().catch(() => ({}))) as { code?: unknown; data?: unknown };
      // A Nacos answer always carries `code` (a 404 with one is "service not found", nothing
      // disabled); a 404 without one is the web server's: the API is not there (2.x).
      const missing = (res.status === 404 && body.code === undefined) || [401, 403, 405, 501].includes(res.status);
      if (missing) {
        this.#off = true;
        this.#o.logger?.warn({ registry: this.#o.registry, status: res.status }, 'nacos admin instance list unavailable (needs 3.x and a user allowed to read it); disabled instances leave the imported set instead of draining');
        return [];
      }
      if (!res.ok || !Array.isArray(body.data)) return [];
      return (body.data as unknown[]).filter((i): i is NacosInstance => typeof i === 'object' && i !== null && (i as NacosInstance).enabled === false);
    } catch (err) {
      this.#o.logger?.debug({ registry: this.#o.registry, err: describeError(err) }, 'nacos disabled-instance lookup failed; treating dropped instances as gone');
      return [];
    }
  }
}
