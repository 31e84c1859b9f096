import { BridgeError, describeError } from '../../bridge/errors/index.ts';
import type { ServiceRef } from '../../bridge/model/index.ts';
import type { Migration, MigrationObject, MigrationStore } from '../../bridge/ports/index.ts';
import { MIGRATION_GROUP, MIGRATION_PLURAL, MIGRATION_VERSION, type MigrationStatus } from '../../bridge/runtime/config/migration-schema.ts';
import type { EngineLogger } from '../../bridge/sync/logger-port.ts';
import { splitProblem, type Split } from '../../bridge/sync/split.ts';
import type { CustomResource, KubeClient, ListResult, WatchEventType, WatchHandle } from './client.ts';
import { statusOf } from './client.ts';
import { governorOf, newMigration, toMigrations, type KMigration, type NewMigration } from './migration-convert.ts';
import { Reflector } from './reflector.ts';
import { sleep } from './sleep.ts';

export const SERVICE_MIGRATIONS: CustomResource = { group: MIGRATION_GROUP, version: MIGRATION_VERSION, plural: MIGRATION_PLURAL };

export interface KubernetesMigrationsOptions {
  /** How often a missing CRD or a refused list is looked at again. */
  readonly recheckSeconds: number;
  /** Backoff of list/watch while the API server is away (the adapter's resyncBackoffMs). */
  readonly minBackoffMs: number;
  readonly maxBackoffMs: number;
  /** Default: servicemigrations.isthmus.dev/v1alpha1 (tests name one that is not installed). */
  readonly resource?: CustomResource;
  readonly logger?: EngineLogger;
}

/** What the store needs of the client (a seam for tests with a scripted API). */
export type MigrationApi = Pick<KubeClient, 'list' | 'watch' | 'getCustom' | 'createCustom' | 'mergePatchCustom' | 'replaceCustomStatus'>;

const INSTALL_HINT = 'install it with `kubectl apply -f deploy/crds/` or the Helm chart';
const ATTEMPTS = 3;

/**
 * ServiceMigration objects, cluster-wide, for every replica: a Reflector lists and watches them
 * (freeze on outage, relist on 410) and the checked view is rebuilt on every change. A CRD that
 * is not installed, or RBAC that refuses the list, is not an error of the bridge: splits then
 * come from config, `available()` says why, and the list is tried again every `recheckSeconds`,
 * so installing the CRD later needs no restart.
 */
export class KubernetesMigrations implements MigrationStore {
  readonly #api: MigrationApi;
  readonly #o: KubernetesMigrationsOptions;
  readonly #r: CustomResource;
  readonly #reflector: Reflector<KMigration>;
  readonly #listeners = new Set<() => void>();
  #signal: AbortSignal = new AbortController().signal;
  #view: readonly Migration[] | undefined;
  #unavailable: string | undefined;
  #started: Promise<void> | undefined;
  #settle: () => void = () => undefined;

  constructor(api: MigrationApi, options: KubernetesMigrationsOptions) {
    this.#api = api;
    this.#o = options;
    this.#r = options.resource ?? SERVICE_MIGRATIONS;
    this.#reflector = new Reflector<KMigration>(
      { list: () => this.#list(), watch: (rv, onEvent, done) => this.#watch(rv, onEvent, done) },
      {
        minBackoffMs: options.minBackoffMs,
        maxBackoffMs: options.maxBackoffMs,
        onChange: () => { this.#changed(); },
        // Any answer from list or watch proves the type is served and readable again.
        onContact: () => { this.#setUnavailable(undefined); this.#settle(); },
        onFailure: (message) => { this.#settle(); this.#o.logger?.debug({ resource: this.#label(), err: message }, 'ServiceMigration list/watch failed'); },
      },
    );
  }

  /**
   * Resolves after the first list attempt, whatever its outcome (an API server that is away at
   * startup must not hold the bridge up: splits come from config until the list is in).
   */
  start(signal: AbortSignal): Promise<void> {
    if (this.#started !== undefined) return this.#started;
    this.#signal = signal;
    this.#started = new Promise<void>((resolve) => {
      this.#settle = resolve;
      signal.addEventListener('abort', () => { resolve(); }, { once: true });
    });
    this.#reflector.start(signal);
    return this.#started;
  }

  available(): { readonly ok: boolean; readonly reason?: string } {
    if (this.#unavailable !== undefined) return { ok: false, reason: this.#unavailable };
    if (this.#reflector.synced) return { ok: true };
    const why = this.#reflector.lastError;
    return { ok: false, reason: `${this.#label()} not listed yet${why === undefined ? '' : `: ${why}`}` };
  }

  list(): readonly Migration[] {
    return (this.#view ??= toMigrations(this.#reflector.items()));
  }

  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => { this.#listeners.delete(listener); };
  }

  async setSplit(ref: ServiceRef, split: Split | undefined): Promise<MigrationObject> {
    const service = `${ref.namespace}/${ref.name}`;
    const bad = split === undefined ? undefined : splitProblem(split);
    if (bad !== undefined) throw new BridgeError('ISTHMUS_USAGE', `split for ${service}: ${bad}`, { terminal: true });
    // Not listed (yet): read once, so an object that exists is patched rather than duplicated.
    if (!this.#reflector.synced) {
      const list = await this.#api.list(this.#r, undefined).catch((err: unknown) => { throw this.#explain(err, 'list', ''); });
      for (const obj of list.items) this.#reflector.remember(obj);
    }
    for (let attempt = 1; ; attempt++) {
      const governing = governorOf(this.#reflector.items(), ref);
      const next = governing === undefined ? this.#newObject(ref, split) : undefined;
      const target = next?.object ?? objectOf(governing);
      if (next !== undefined && split === undefined) return target; // no object, nothing to remove
      try {
        if (next !== undefined) return this.#remember(await this.#api.createCustom(this.#r, next.body));
        // The resourceVersion makes the patch conditional: splitPatch nulls the origins we saw.
        const patch = { metadata: { resourceVersion: governing?.metadata?.resourceVersion }, spec: { split: splitPatch(governing, split) } };
        return this.#remember(await this.#api.mergePatchCustom(this.#r, target.namespace, target.name, patch));
      } catch (err) {
        // Someone wrote meanwhile (our resourceVersion is stale, or the name now exists): reread and go again.
        if (!isConflict(err) || attempt >= ATTEMPTS) throw this.#explain(err, next === undefined ? 'patch' : 'create', target.namespace);
        await this.#refresh(target);
      }
    }
  }

  #newObject(ref: ServiceRef, split: Split | undefined): NewMigration {
    const next = newMigration(ref, split);
    // The plain name may belong to an object for another service (named in its spec.service).
    const taken = this.#reflector.get(`${next.object.namespace}/${next.object.name}`) !== undefined;
    return taken ? newMigration(ref, split, true) : next;
  }

  async writeStatus(object: MigrationObject, status: MigrationStatus): Promise<void> {
    try {
      this.#remember(await this.#api.replaceCustomStatus(this.#r, object.namespace, object.name, status));
    } catch (err) {
      // The object was deleted meanwhile: there is no status left to write.
      if (notFound(err) === 'object') this.#reflector.forget(object);
      else throw this.#explain(err, 'patch', object.namespace, '/status');
    }
  }

  async #list(): Promise<ListResult<KMigration>> {
    for (;;) {
      try {
        return await this.#api.list(this.#r, undefined);
      } catch (err) {
        const reason = this.#reasonOf(err, 'list');
        if (reason === undefined || this.#aborted()) throw err;
        this.#setUnavailable(reason);
        this.#settle();
        // Waiting here, not in the Reflector's backoff, keeps the interval at recheckSeconds.
        await sleep(this.#o.recheckSeconds * 1000, this.#signal);
        if (this.#aborted()) throw err;
      }
    }
  }

  #watch(rv: string, onEvent: (type: WatchEventType, obj: unknown) => void, done: (err: unknown) => void): Promise<WatchHandle> {
    return this.#api.watch(this.#r, undefined, rv, onEvent, (err) => {
      const reason = this.#reasonOf(err, 'watch');
      if (reason === undefined) {
        done(err);
        return;
      }
      this.#setUnavailable(reason);
      // The CRD went away: report it as 410 Gone so the Reflector relists, and #list then waits
      // for the CRD to come back. The delay stops a spin should list work while watch does not.
      const gone = httpStatus(err) === 404 ? { statusCode: 410 } : err;
      setTimeout(() => { done(gone); }, this.#o.minBackoffMs).unref();
    });
  }

  async #refresh(object: MigrationObject): Promise<void> {
    const fresh = await this.#api.getCustom(this.#r, object.namespace, object.name).catch((err: unknown) => { throw this.#explain(err, 'get', object.namespace); });
    if (fresh === undefined) this.#reflector.forget(object);
    else this.#reflector.remember(fresh);
  }

  /** The written object goes into the view at once; the watch event for it then changes nothing. */
  #remember(written: KMigration): MigrationObject {
    this.#reflector.remember(written);
    return objectOf(written);
  }

  #changed(): void {
    this.#view = undefined;
    for (const listener of [...this.#listeners]) {
      try {
        listener();
      } catch (err) {
        this.#o.logger?.error({ err: describeError(err) }, 'ServiceMigration change listener failed');
      }
    }
  }

  #setUnavailable(reason: string | undefined): void {
    if (reason === this.#unavailable) return;
    this.#unavailable = reason;
    if (reason === undefined) this.#o.logger?.info({ resource: this.#label() }, 'ServiceMigrations available');
    else this.#o.logger?.warn({ resource: this.#label(), reason }, 'ServiceMigrations unavailable: splits come from config');
  }

  /** Why the type cannot be used, for a missing CRD or a refusal by RBAC; undefined otherwise. */
  #reasonOf(err: unknown, verb: string, subresource = ''): string | undefined {
    const status = httpStatus(err);
    if (status === 403) return `RBAC: cannot ${verb} ${this.#label()}${subresource}`;
    if (status === 404 && notFound(err) === 'resource') return `CRD ${this.#label()} is not installed`;
    return undefined;
  }

  #explain(err: unknown, verb: string, namespace: string, subresource = ''): unknown {
    const reason = this.#reasonOf(err, verb, subresource);
    if (reason === undefined || !(err instanceof BridgeError)) return err;
    const where = namespace === '' ? '' : ` in namespace ${namespace}`;
    const fix = httpStatus(err) === 403
      ? `grant the bridge's ServiceAccount ${verb} on ${this.#r.plural}${subresource} (group ${this.#r.group})${where}: deploy/rbac/ or the Helm chart`
      : INSTALL_HINT;
    return new BridgeError('ISTHMUS_MIGRATION_UNAVAILABLE', `${reason}${where}; ${fix}`, { cause: err, details: err.details });
  }

  // A method, because the compiler narrows `signal.aborted` to false across the await.
  #aborted(): boolean {
    return this.#signal.aborted;
  }

  #label(): string {
    return `${this.#r.plural}.${this.#r.group}`;
  }
}

/** Merge patch of a map merges key by key: origins the new split leaves out must be nulled. */
function splitPatch(current: KMigration | undefined, split: Split | undefined): Record<string, number | null> | null {
  if (split === undefined) return null;
  const spec = current?.spec as { split?: unknown } | undefined;
  const old = typeof spec?.split === 'object' && spec.split !== null ? Object.keys(spec.split) : [];
  return { ...Object.fromEntries(old.filter((k) => !(k in split)).map((k) => [k, null])), ...split };
}

function isConflict(err: unknown): boolean {
  return err instanceof BridgeError && err.code === 'ISTHMUS_REGISTRY_CONFLICT';
}

/** HTTP status of a BridgeError from the client, or of a raw watch failure. */
function httpStatus(err: unknown): number | undefined {
  if (!(err instanceof BridgeError)) return statusOf(err);
  const status = err.details['status'];
  return typeof status === 'number' ? status : undefined;
}

function objectOf(obj: KMigration | undefined): MigrationObject {
  return { namespace: obj?.metadata?.namespace ?? '', name: obj?.metadata?.name ?? '' };
}

function notFound(err: unknown): unknown {
  // A raw watch failure carries no body: on the collection path a 404 can only be the type.
  return err instanceof BridgeError ? err.details['notFound'] : httpStatus(err) === 404 ? 'resource' : undefined;
}
