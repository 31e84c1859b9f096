// Pure conversion of ServiceMigration objects (isthmus.dev/v1alpha1) to the `Migration` port
// shape, the choice of one governing object per service, and the object we create for a service
// that has none. No client imports: migrations.ts feeds this what the API server answered.
import { createHash } from 'node:crypto';
import { Value } from '@sinclair/typebox/value';
import { BridgeError } from '../../bridge/errors/index.ts';
import type { ServiceRef } from '../../bridge/model/index.ts';
import { refProblem } from '../../bridge/model/validate.ts';
import type { Migration, MigrationObject } from '../../bridge/ports/index.ts';
import {
  MIGRATION_GROUP,
  MIGRATION_KIND,
  MIGRATION_PHASES,
  MIGRATION_VERSION,
  MigrationSpecSchema,
  type MigrationSpec,
  type MigrationStatus,
} from '../../bridge/runtime/config/migration-schema.ts';
import { splitProblem, type Split } from '../../bridge/sync/split.ts';
import type { ObjectMeta } from './types.ts';

export interface KMigrationMeta extends ObjectMeta {
  generation?: number;
  creationTimestamp?: string;
}

/** A ServiceMigration as the API server returns it; spec and status unchecked. */
export interface KMigration {
  apiVersion?: string;
  kind?: string;
  metadata?: KMigrationMeta;
  spec?: unknown;
  status?: unknown;
}

/** Label on the objects the bridge creates (`isthmus weight` for a service with no object). */
export const MIGRATION_MANAGED_BY = { 'app.kubernetes.io/managed-by': 'isthmus' } as const;

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const MAX_SUBDOMAIN = 253;
const MAX_SERVICE_FIELD = 253;

export function isDns1123Label(s: string): boolean {
  return DNS1123_LABEL.test(s);
}

export function isDns1123Subdomain(s: string): boolean {
  return s.length <= MAX_SUBDOMAIN && DNS1123_SUBDOMAIN.test(s);
}

/** One object, checked on its own (no knowledge of other objects for the same service). */
export function toMigration(obj: KMigration): Migration {
  const object: MigrationObject = { namespace: obj.metadata?.namespace ?? '', name: obj.metadata?.name ?? '' };
  const generation = obj.metadata?.generation ?? 0;
  // The leader only compares the status it read with the one it would write, so a malformed one
  // simply differs and gets rewritten; nothing reads fields from it.
  const status = isPlainObject(obj.status) ? { status: obj.status as MigrationStatus } : {};
  const base = { object, generation, ...status };
  const spec: unknown = obj.spec ?? {};
  const target = refOf(object, spec);
  if ('problem' in target) return { ...base, ref: target.ref, problem: target.problem };
  if (!Value.Check(MigrationSpecSchema, spec)) return { ...base, ref: target.ref, problem: specProblem(spec) };
  const checked: MigrationSpec = spec;
  const phase = checked.phase === undefined ? {} : { phase: checked.phase };
  if (checked.split === undefined) return { ...base, ref: target.ref, ...phase };
  const bad = splitProblem(checked.split);
  if (bad !== undefined) return { ...base, ref: target.ref, ...phase, problem: `spec.split: ${bad}` };
  const split: Split = { ...checked.split };
  return { ...base, ref: target.ref, ...phase, split };
}

/**
 * Every object, with at most one governing each service: the oldest (creationTimestamp, then
 * namespace/name, so every replica picks the same one without talking to the others). The others
 * keep their ref but carry a problem, so the split they declare is ignored and status says why.
 * An object whose `spec.service` cannot be read governs nothing: its fallback ref is a guess.
 */
export function toMigrations(objects: Iterable<KMigration>): Migration[] {
  const rows = [...objects].map((obj) => ({ obj, m: toMigration(obj) }));
  rows.sort((a, b) => compareAge(a.obj, b.obj));
  const governor = new Map<string, MigrationObject>();
  const out: Migration[] = [];
  for (const { obj, m } of rows) {
    if (unreadableService(obj)) {
      out.push(m);
      continue;
    }
    const key = `${m.ref.namespace}/${m.ref.name}`;
    const first = governor.get(key);
    if (first === undefined) {
      governor.set(key, m.object);
      out.push(m);
      continue;
    }
    const problem = `another ServiceMigration (${first.namespace}/${first.name}) already governs ${key}`;
    const { split: _ignored, ...rest } = m;
    out.push({ ...rest, problem });
  }
  return out.sort((a, b) => compareKeys(a.object, b.object));
}

/** The object governing `ref` (the oldest that names it), as `toMigrations` would choose it. */
export function governorOf(objects: Iterable<KMigration>, ref: ServiceRef): KMigration | undefined {
  let best: KMigration | undefined;
  for (const obj of objects) {
    if (unreadableService(obj)) continue;
    const m = toMigration(obj);
    if (m.ref.namespace !== ref.namespace || m.ref.name !== ref.name) continue;
    if (best === undefined || compareAge(obj, best) < 0) best = obj;
  }
  return best;
}

/** Where and how the bridge creates the object for a service that has none. */
export interface NewMigration {
  readonly object: MigrationObject;
  readonly body: KMigration;
}

/**
 * The object to create for `ref`. Kubernetes only takes DNS-1123 names: an odd service name gets
 * a sanitised name plus a hash of the real one (stable, so every replica and every run picks the
 * same) and names the service in `spec.service`. A namespace is not ours to invent, so a service
 * whose namespace cannot be a Kubernetes namespace is refused with instructions.
 * `hashed` forces the hashed form (the plain name is taken by an object for another service).
 */
export function newMigration(ref: ServiceRef, split: Split | undefined, hashed = false): NewMigration {
  const full = `${ref.namespace}/${ref.name}`;
  if (!isDns1123Label(ref.namespace)) {
    throw new BridgeError(
      'ISTHMUS_USAGE',
      `cannot create a ServiceMigration for ${full}: ${JSON.stringify(ref.namespace)} is not a Kubernetes namespace name. ` +
        `Create the object by hand in a namespace of your choice with spec.service: "${full}", then run the command again.`,
      { terminal: true },
    );
  }
  const plain = !hashed && isDns1123Subdomain(ref.name);
  if (!plain && ref.name.length > MAX_SERVICE_FIELD) {
    throw new BridgeError('ISTHMUS_USAGE', `cannot create a ServiceMigration for ${full}: the service name is longer than ${MAX_SERVICE_FIELD} characters, which spec.service cannot hold`, { terminal: true });
  }
  const name = plain ? ref.name : hashedName(ref.name);
  const spec: MigrationSpec = { ...(plain ? {} : { service: ref.name }), ...(split === undefined ? {} : { split: { ...split } }) };
  return {
    object: { namespace: ref.namespace, name },
    body: {
      apiVersion: `${MIGRATION_GROUP}/${MIGRATION_VERSION}`,
      kind: MIGRATION_KIND,
      metadata: { namespace: ref.namespace, name, labels: { ...MIGRATION_MANAGED_BY } },
      spec,
    },
  };
}

/** `orders_V2` → `orders-v2-1a2b3c4d`: readable in `kubectl get`, unique through the hash. */
export function hashedName(service: string): string {
  const hash = createHash('sha256').update(service).digest('hex').slice(0, 8);
  const stem = service
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .slice(0, 200)
    .replace(/^-+|-+$/g, '');
  return stem === '' ? `svc-${hash}` : `${stem}-${hash}`;
}

type RefResult = { ref: ServiceRef } | { ref: ServiceRef; problem: string };

function refOf(object: MigrationObject, spec: unknown): RefResult {
  const fallback: ServiceRef = { namespace: object.namespace, name: object.name };
  const service = isPlainObject(spec) ? spec['service'] : undefined;
  if (service === undefined) {
    const bad = refProblem(fallback);
    return bad === undefined ? { ref: fallback } : { ref: fallback, problem: bad };
  }
  if (typeof service !== 'string') return { ref: fallback, problem: 'spec.service must be a string: `name` or `namespace/name`' };
  const slash = service.indexOf('/');
  const ref: ServiceRef = slash < 0 ? { namespace: object.namespace, name: service } : { namespace: service.slice(0, slash), name: service.slice(slash + 1) };
  const bad = refProblem(ref);
  return bad === undefined ? { ref } : { ref: fallback, problem: `spec.service ${JSON.stringify(service.slice(0, 80))}: ${bad}` };
}

function unreadableService(obj: KMigration): boolean {
  const object = { namespace: obj.metadata?.namespace ?? '', name: obj.metadata?.name ?? '' };
  return 'problem' in refOf(object, obj.spec ?? {});
}

/** The first schema error, in words a person editing the YAML can act on. */
function specProblem(spec: unknown): string {
  if (!isPlainObject(spec)) return 'spec must be an object';
  const first = Value.Errors(MigrationSpecSchema, spec).First();
  if (first === undefined) return 'spec is invalid';
  const where = `spec${first.path.replaceAll('/', '.')}`;
  if (first.path === '/phase') return `${where} must be one of ${MIGRATION_PHASES.join(', ')}`;
  if (first.path.startsWith('/split')) return `${where}: ${first.message} (spec.split maps registry ids to shares 0-10000, like {vm: 90, k8s: 10})`;
  return `${where}: ${first.message}`;
}

function compareAge(a: KMigration, b: KMigration): number {
  // An object without a timestamp has not been through the API server: it is the newest.
  const ta = a.metadata?.creationTimestamp ?? '\uffff';
  const tb = b.metadata?.creationTimestamp ?? '\uffff';
  if (ta !== tb) return ta < tb ? -1 : 1;
  return compareKeys(
    { namespace: a.metadata?.namespace ?? '', name: a.metadata?.name ?? '' },
    { namespace: b.metadata?.namespace ?? '', name: b.metadata?.name ?? '' },
  );
}

function compareKeys(a: MigrationObject, b: MigrationObject): number {
  const ka = `${a.namespace}/${a.name}`;
  const kb = `${b.namespace}/${b.name}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
