import { BridgeError, describeError } from '../../bridge/errors/index.ts';
import type { RegistryId } from '../../bridge/model/index.ts';
import type { EurekaApplication, EurekaApplications, EurekaInstance, EurekaStatus } from './native.ts';

export interface EurekaClientOptions {
  readonly registry: RegistryId;
  /** Base URLs with the Jersey prefix, failover order. */
  readonly servers: readonly string[];
  readonly credentials?: { readonly username: string; readonly password: string };
  readonly requestTimeoutMs: number;
  /** The dashboard page; absent: derived from the server in use (see dashboardOf). */
  readonly dashboardUrl?: string;
}

/** A whole answer and the server it came from (status shows which peer we read). */
export interface Answer<T> {
  readonly body: T;
  readonly server: string;
}

/**
 * The Eureka REST API as Spring Cloud's DiscoveryClient speaks it, JSON both ways. Requests go
 * to the server that last answered; a connection failure, a timeout or a 5xx moves to the next
 * one in the list, as the Java client's RetryableEurekaHttpClient does. 4xx answers are the
 * server's word and are not retried elsewhere (a 404 renew means "register again").
 */
export class EurekaClient {
  readonly #o: EurekaClientOptions;
  readonly #auth: string | undefined;
  #current = 0;
  /** Registrations, cancels and status changes sent (renewals are counted apart). */
  writes = 0;
  renewals = 0;
  requests = 0;

  constructor(options: EurekaClientOptions) {
    this.#o = options;
    const c = options.credentials;
    this.#auth = c === undefined ? undefined : `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
  }

  get registry(): RegistryId {
    return this.#o.registry;
  }

  /** The server requests go to now. */
  get server(): string {
    return this.#o.servers[this.#current] ?? '';
  }

  async applications(): Promise<Answer<EurekaApplications>> {
    const res = await this.#send('GET', '/apps', { ok: [200] });
    return { body: unwrap(res.text, 'applications'), server: res.server };
  }

  async delta(): Promise<Answer<EurekaApplications>> {
    const res = await this.#send('GET', '/apps/delta', { ok: [200] });
    return { body: unwrap(res.text, 'applications'), server: res.server };
  }

  /** One application, or undefined when the server has no instance of it. */
  async application(app: string): Promise<EurekaApplication | undefined> {
    const res = await this.#send('GET', `/apps/${seg(app)}`, { ok: [200], missing: true });
    return res.status === 404 ? undefined : unwrap(res.text, 'application');
  }

  async register(app: string, instance: EurekaInstance): Promise<void> {
    this.writes++;
    await this.#send('POST', `/apps/${seg(app)}`, { ok: [200, 204], body: JSON.stringify({ instance }) });
  }

  /** A heartbeat; false when the server does not know the lease (404: register again). */
  async renew(app: string, id: string, lastDirtyTimestamp: string | undefined): Promise<boolean> {
    this.renewals++;
    const q = lastDirtyTimestamp === undefined ? '' : `?lastDirtyTimestamp=${encodeURIComponent(lastDirtyTimestamp)}`;
    const res = await this.#send('PUT', `/apps/${seg(app)}/${seg(id)}${q}`, { ok: [200], missing: true });
    return res.status !== 404;
  }

  /** Deregisters; an instance already gone is fine (the goal is reached). */
  async cancel(app: string, id: string): Promise<void> {
    this.writes++;
    await this.#send('DELETE', `/apps/${seg(app)}/${seg(id)}`, { ok: [200], missing: true });
  }

  /** Sets the overridden status (what callers see until it is removed). */
  async overrideStatus(app: string, id: string, status: EurekaStatus): Promise<boolean> {
    this.writes++;
    const res = await this.#send('PUT', `/apps/${seg(app)}/${seg(id)}/status?value=${status}`, { ok: [200], missing: true });
    return res.status !== 404;
  }

  /** Removes the override; the instance's status becomes `status`. */
  async clearOverride(app: string, id: string, status: EurekaStatus): Promise<boolean> {
    this.writes++;
    const res = await this.#send('DELETE', `/apps/${seg(app)}/${seg(id)}/status?value=${status}`, { ok: [200], missing: true });
    return res.status !== 404;
  }

  /**
   * The dashboard page of the server we read from (Spring's shows "Lease expiration enabled"),
   * or undefined when there is none (disabled, another path, Netflix's WAR).
   */
  async dashboard(): Promise<string | undefined> {
    const url = this.#o.dashboardUrl ?? dashboardOf(this.server);
    try {
      const res = await fetch(url, { headers: this.#headers('text/html'), signal: AbortSignal.timeout(this.#o.requestTimeoutMs) });
      this.requests++;
      return res.ok ? await res.text() : undefined;
    } catch {
      return undefined;
    }
  }

  #headers(accept = 'application/json'): Record<string, string> {
    const h: Record<string, string> = { accept, 'content-type': 'application/json' };
    if (this.#auth !== undefined) h['authorization'] = this.#auth;
    return h;
  }

  async #send(method: string, path: string, o: { ok: number[]; missing?: boolean; body?: string }): Promise<{ status: number; text: string; server: string }> {
    const servers = this.#o.servers;
    let last: unknown;
    for (let tried = 0; tried < servers.length; tried++) {
      const index = (this.#current + tried) % servers.length;
      const server = servers[index] ?? '';
      let res: Response;
      try {
        this.requests++;
        res = await fetch(`${server}${path}`, { method, headers: this.#headers(), ...(o.body === undefined ? {} : { body: o.body }), signal: AbortSignal.timeout(this.#o.requestTimeoutMs) });
      } catch (err) {
        last = new BridgeError('ISTHMUS_REGISTRY_UNREACHABLE', `eureka ${server}: ${method} ${path}: ${describeError(err)}`, { cause: err });
        continue;
      }
      const text = await res.text();
      if (res.status >= 500) {
        last = new BridgeError('ISTHMUS_REGISTRY_UNREACHABLE', `eureka ${server}: ${method} ${path} answered ${res.status}`);
        continue;
      }
      this.#current = index;
      if (o.ok.includes(res.status) || (o.missing === true && res.status === 404)) return { status: res.status, text, server };
      if (res.status === 401) throw new BridgeError('ISTHMUS_REGISTRY_AUTH', `eureka ${server} refused our credentials (401) on ${method} ${path}`);
      // 403 is also what a Spring server answers while it waits for peers after a start.
      if (res.status === 403) throw new BridgeError('ISTHMUS_REGISTRY_UNREACHABLE', `eureka ${server}: ${method} ${path} forbidden (403: credentials, or the server is not open for traffic yet)`);
      throw new BridgeError('ISTHMUS_REGISTRY_REJECTED', `eureka ${server}: ${method} ${path} answered ${res.status}: ${text.slice(0, 200)}`);
    }
    throw last instanceof Error ? last : new BridgeError('ISTHMUS_REGISTRY_UNREACHABLE', `eureka: ${method} ${path}: no server configured`);
  }
}

/** `http://h:8761/eureka` → `http://h:8761/` (Spring Cloud's dashboard default path). */
export function dashboardOf(base: string): string {
  const url = new URL(base);
  url.pathname = url.pathname.replace(/\/+$/, '').replace(/\/[^/]*$/, '/');
  return url.toString();
}

function seg(s: string): string {
  return encodeURIComponent(s);
}

function unwrap(text: string, key: string): object {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new BridgeError('ISTHMUS_REGISTRY_UNREACHABLE', `eureka answered something that is not JSON: ${text.slice(0, 120)}`, { cause: err });
  }
  const inner = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>)[key] : undefined;
  if (typeof inner !== 'object' || inner === null) throw new BridgeError('ISTHMUS_REGISTRY_UNREACHABLE', `eureka answer lacks "${key}": ${text.slice(0, 120)}`);
  return inner;
}
