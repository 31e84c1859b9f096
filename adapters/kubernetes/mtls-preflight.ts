import type { AdapterContext, SourceNotice } from '../../bridge/ports/index.ts';
import { BridgeError, describeError } from '../../bridge/errors/index.ts';
import type { KubeClient, ListResult } from './client.ts';
import { statusOf } from './client.ts';
import { type KPeerAuthentication, PEER_AUTH_VERSIONS, peerAuthResource } from './peer-auth.ts';
import { Reflector } from './reflector.ts';

export interface MtlsPreflightOptions {
  readonly rootNamespace: string;
  /** Namespaces the source watches; empty = cluster-wide. */
  readonly namespaces: readonly string[];
  readonly minBackoffMs: number;
  readonly maxBackoffMs: number;
  readonly onChange: () => void;
  readonly logger?: AdapterContext['logger'] | undefined;
}

/**
 * PeerAuthentications listed and watched next to the source's own reflectors, never gating them:
 * a missing CRD, a refused list or an outage only turns into one notice per scope, and the
 * Reflector's backoff keeps trying, so installing Istio or granting RBAC later needs no restart.
 */
export class MtlsPreflight {
  readonly #client: KubeClient;
  readonly #o: MtlsPreflightOptions;
  readonly #reflectors: Reflector<KPeerAuthentication>[] = [];
  /** Index into PEER_AUTH_VERSIONS of the version the API server serves, once a list found it. */
  #version = 0;
  readonly #unreadable = new Map<string, string>();

  constructor(client: KubeClient, options: MtlsPreflightOptions) {
    this.#client = client;
    this.#o = options;
    // The root namespace holds the mesh-wide policy, watched even when not exported from.
    const scopes = options.namespaces.length === 0 ? [undefined] : [...new Set([...options.namespaces, options.rootNamespace])];
    for (const ns of scopes) {
      const scope = ns ?? '*';
      const reflector: Reflector<KPeerAuthentication> = new Reflector<KPeerAuthentication>(
        {
          list: () => this.#list(ns, scope),
          watch: (rv, onEvent, done) => this.#client.watch(peerAuthResource(this.#versionName()), ns, rv, onEvent, done),
        },
        {
          minBackoffMs: options.minBackoffMs,
          maxBackoffMs: options.maxBackoffMs,
          onChange: () => { options.onChange(); },
          onContact: () => { if (reflector.synced) this.#readable(scope, undefined); },
          onFailure: (message) => { if (!this.#unreadable.has(scope)) this.#readable(scope, message); },
        },
      );
      this.#reflectors.push(reflector);
    }
  }

  start(signal: AbortSignal): void {
    for (const r of this.#reflectors) r.start(signal);
  }

  /** Every policy seen in every scope (the last known ones while a scope is unreadable). */
  policies(): KPeerAuthentication[] {
    return this.#reflectors.flatMap((r) => [...r.items()]);
  }

  /** At most one notice, however many scopes fail: a missing CRD fails them all alike. */
  notices(): SourceNotice[] {
    if (this.#unreadable.size === 0) return [];
    return [{ code: 'mtls-unreadable', reason: `PeerAuthentication not readable: ${[...new Set(this.#unreadable.values())].sort().join('; ')}` }];
  }

  async #list(ns: string | undefined, scope: string): Promise<ListResult<KPeerAuthentication>> {
    for (;;) {
      try {
        return await this.#client.listObjects<KPeerAuthentication>(peerAuthResource(this.#versionName()), ns);
      } catch (err) {
        const status = err instanceof BridgeError ? err.details['status'] : statusOf(err);
        const where = ns === undefined ? 'cluster-wide' : `in namespace ${ns}`;
        if (status === 404 && this.#version + 1 < PEER_AUTH_VERSIONS.length) {
          this.#version++;
          continue;
        }
        // Start over at v1 next time: the CRD may be installed (or upgraded) meanwhile.
        if (status === 404) this.#version = 0;
        const reason = status === 404 ? 'CRD peerauthentications.security.istio.io is not installed'
          : status === 403 ? `RBAC: cannot list peerauthentications.security.istio.io ${where}`
          : describeError(err);
        this.#readable(scope, reason);
        throw err;
      }
    }
  }

  #versionName(): string {
    return PEER_AUTH_VERSIONS[this.#version] ?? 'v1';
  }

  #readable(scope: string, reason: string | undefined): void {
    if (this.#unreadable.get(scope) === reason) return;
    if (reason === undefined) {
      this.#unreadable.delete(scope);
      this.#o.logger?.info({ scope }, 'PeerAuthentications readable');
    } else {
      this.#unreadable.set(scope, reason);
      this.#o.logger?.warn({ scope, reason }, 'PeerAuthentications not readable: STRICT mTLS on exported workloads is not checked');
    }
    this.#o.onChange();
  }
}
