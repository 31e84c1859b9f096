import type { AdapterContext, SourceNotice } from '../../bridge/ports/index.ts';
import { BridgeError, describeError } from '../../bridge/errors/index.ts';
import type { KubeClient, ListResult } from './client.ts';
import { statusOf } from './client.ts';
import { Reflector } from './reflector.ts';
import { type KWorkloadEntryRead, WORKLOAD_ENTRY_VERSIONS, workloadEntryResource } from './workload-entries.ts';

export interface WorkloadEntryWatchOptions {
  /** Namespaces the source watches; empty = cluster-wide. */
  readonly namespaces: readonly string[];
  readonly minBackoffMs: number;
  readonly maxBackoffMs: number;
  /** An entry of `namespace` appeared, changed or went away. */
  readonly onChange: (namespace: string, next: KWorkloadEntryRead | undefined, prev: KWorkloadEntryRead | undefined) => void;
  /** Readability changed (notices). */
  readonly onNotice: () => void;
  readonly logger?: AdapterContext['logger'] | undefined;
}

/**
 * WorkloadEntries listed and watched beside the source's own reflectors. A missing CRD or a
 * refused list is one notice and never a source failure, and the Reflector's backoff keeps
 * trying, so installing Istio or granting RBAC later needs no restart.
 */
export class WorkloadEntryWatch {
  readonly #client: KubeClient;
  readonly #o: WorkloadEntryWatchOptions;
  readonly #reflectors: Reflector<KWorkloadEntryRead>[] = [];
  readonly #byNamespace = new Map<string, Map<string, KWorkloadEntryRead>>();
  /** Index into WORKLOAD_ENTRY_VERSIONS of the version the API server serves. */
  #version = 0;
  readonly #unreadable = new Map<string, string>();
  /**
   * Scopes whose first answer is in: a complete list, or a definite "cannot" (no CRD, RBAC
   * refusal). Until every scope has one the source does not report synced, so a restarted bridge
   * never plans a pass without the VMs it exported before (that pass would delete them).
   */
  readonly #settled = new Set<string>();

  constructor(client: KubeClient, options: WorkloadEntryWatchOptions) {
    this.#client = client;
    this.#o = options;
    const scopes = options.namespaces.length === 0 ? [undefined] : [...new Set(options.namespaces)];
    for (const ns of scopes) {
      const scope = ns ?? '*';
      const reflector: Reflector<KWorkloadEntryRead> = new Reflector<KWorkloadEntryRead>(
        {
          list: () => this.#list(ns, scope),
          watch: (rv, onEvent, done) => this.#client.watch(workloadEntryResource(this.#versionName()), ns, rv, onEvent, done),
        },
        {
          minBackoffMs: options.minBackoffMs,
          maxBackoffMs: options.maxBackoffMs,
          onChange: (_key, next, prev) => { this.#onChange(next, prev); },
          onContact: () => {
            if (!reflector.synced) return;
            this.#settled.add(scope);
            this.#readable(scope, undefined);
          },
          onFailure: (message) => { if (!this.#unreadable.has(scope)) this.#readable(scope, message); },
        },
      );
      this.#reflectors.push(reflector);
    }
  }

  start(signal: AbortSignal): void {
    for (const r of this.#reflectors) r.start(signal);
  }

  /** Every scope has listed once or answered that it cannot be listed. */
  settled(): boolean {
    return this.#settled.size === this.#reflectors.length;
  }

  /** The entries of one namespace (the last known ones while unreadable). */
  inNamespace(namespace: string): KWorkloadEntryRead[] {
    return [...(this.#byNamespace.get(namespace)?.values() ?? [])];
  }

  /** At most one notice, however many scopes fail: a missing CRD fails them all alike. */
  notices(): SourceNotice[] {
    if (this.#unreadable.size === 0) return [];
    return [{ code: 'workloadentries-unreadable', reason: `WorkloadEntry not readable, VMs of the mesh not exported: ${[...new Set(this.#unreadable.values())].sort().join('; ')}` }];
  }

  #onChange(next: KWorkloadEntryRead | undefined, prev: KWorkloadEntryRead | undefined): void {
    const meta = next?.metadata ?? prev?.metadata;
    const ns = meta?.namespace ?? '';
    const name = meta?.name ?? '';
    let entries = this.#byNamespace.get(ns);
    if (next === undefined) {
      entries?.delete(name);
      if (entries?.size === 0) this.#byNamespace.delete(ns);
    } else {
      if (entries === undefined) {
        entries = new Map();
        this.#byNamespace.set(ns, entries);
      }
      entries.set(name, next);
    }
    this.#o.onChange(ns, next, prev);
  }

  async #list(ns: string | undefined, scope: string): Promise<ListResult<KWorkloadEntryRead>> {
    for (;;) {
      try {
        return await this.#client.listObjects<KWorkloadEntryRead>(workloadEntryResource(this.#versionName()), ns);
      } catch (err) {
        const status = err instanceof BridgeError ? err.details['status'] : statusOf(err);
        if (status === 404 && this.#version + 1 < WORKLOAD_ENTRY_VERSIONS.length) {
          this.#version++;
          continue;
        }
        // Start over at v1 next time: the CRD may be installed (or upgraded) meanwhile.
        if (status === 404) this.#version = 0;
        const where = ns === undefined ? 'cluster-wide' : `in namespace ${ns}`;
        const reason = status === 404 ? 'CRD workloadentries.networking.istio.io is not installed'
          : status === 403 ? `RBAC: cannot list workloadentries.networking.istio.io ${where}`
          : describeError(err);
        // A definite answer: nothing to wait for. Anything else (an outage) keeps the source unsynced.
        if (status === 404 || status === 403) this.#settled.add(scope);
        this.#readable(scope, reason);
        throw err;
      }
    }
  }

  #versionName(): string {
    return WORKLOAD_ENTRY_VERSIONS[this.#version] ?? 'v1';
  }

  #readable(scope: string, reason: string | undefined): void {
    if (this.#unreadable.get(scope) === reason) return;
    if (reason === undefined) {
      this.#unreadable.delete(scope);
      this.#o.logger?.info({ scope }, 'WorkloadEntries readable');
    } else {
      this.#unreadable.set(scope, reason);
      this.#o.logger?.warn({ scope, reason }, 'WorkloadEntries not readable: VMs onboarded to the mesh are not exported');
    }
    this.#o.onNotice();
  }
}
