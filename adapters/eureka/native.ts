/**
 * Eureka wire shapes as Spring Cloud Netflix's server writes them in JSON (checked against
 * spring-cloud-starter-netflix-eureka-server 4.3.0), and the small parsers their quirks need.
 */

/** `{"$": 8080, "@enabled": "true"}`; some writers send the number or the flag unquoted. */
export interface EurekaPort {
  readonly $: number | string;
  readonly '@enabled'?: string | boolean;
}

export const STATUSES = ['UP', 'DOWN', 'STARTING', 'OUT_OF_SERVICE', 'UNKNOWN'] as const;
export type EurekaStatus = (typeof STATUSES)[number];

export interface LeaseInfo {
  readonly renewalIntervalInSecs?: number;
  readonly durationInSecs?: number;
  readonly registrationTimestamp?: number;
  readonly lastRenewalTimestamp?: number;
}

export interface EurekaInstance {
  readonly instanceId?: string;
  readonly app?: string;
  readonly hostName?: string;
  readonly ipAddr?: string;
  readonly status?: string;
  readonly overriddenStatus?: string;
  /** The spelling of Eureka 1.x servers. */
  readonly overriddenstatus?: string;
  readonly port?: EurekaPort;
  readonly securePort?: EurekaPort;
  readonly vipAddress?: string;
  readonly secureVipAddress?: string;
  readonly dataCenterInfo?: { readonly '@class'?: string; readonly name?: string };
  readonly leaseInfo?: LeaseInfo;
  /** Empty maps arrive as `{"@class": "java.util.Collections$EmptyMap"}`. */
  readonly metadata?: Readonly<Record<string, string>> | null;
  readonly lastDirtyTimestamp?: string | number;
  readonly lastUpdatedTimestamp?: string | number;
  /** Deltas only: what happened to the instance (ADDED, MODIFIED, DELETED). */
  readonly actionType?: string;
}

/** One application; a single instance may arrive as an object rather than an array. */
export interface EurekaApplication {
  readonly name?: string;
  readonly instance?: EurekaInstance | readonly EurekaInstance[] | null;
}

export interface EurekaApplications {
  readonly versions__delta?: string;
  readonly apps__hashcode?: string;
  readonly application?: EurekaApplication | readonly EurekaApplication[] | null;
}

/** Eureka's XML-to-JSON heritage: a list of one may be sent as the bare element. */
export function asArray<T>(value: T | readonly T[] | null | undefined): readonly T[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? (value as readonly T[]) : [value as T];
}

export function portNumber(p: EurekaPort | undefined): number | undefined {
  if (p === undefined) return undefined;
  const n = Number(p.$);
  return Number.isInteger(n) && n > 0 && n < 65536 ? n : undefined;
}

export function portEnabled(p: EurekaPort | undefined): boolean {
  if (p === undefined) return false;
  const flag = p['@enabled'];
  return flag === true || flag === 'true';
}

/** Unknown or missing strings read as UNKNOWN, which is what Eureka's own parser does. */
export function statusOf(value: string | undefined): EurekaStatus {
  const upper = value?.toUpperCase();
  return (STATUSES as readonly string[]).includes(upper ?? '') ? (upper as EurekaStatus) : 'UNKNOWN';
}

export function overriddenOf(i: EurekaInstance): EurekaStatus {
  return statusOf(i.overriddenStatus ?? i.overriddenstatus);
}

/**
 * What callers see: the server already folds an override into `status`, but an override set
 * between two cache refreshes can be ahead of it, and an override is the operator's word
 * (Spring's /actuator/service-registry, the Eureka REST `…/status`), so it wins when present.
 */
export function effectiveStatus(i: EurekaInstance): EurekaStatus {
  const over = overriddenOf(i);
  return over === 'UNKNOWN' ? statusOf(i.status) : over;
}

/** Metadata without Jackson's type hints (`@class` of an empty map). */
export function userMetadata(i: EurekaInstance): Record<string, string> {
  const out: [string, string][] = [];
  for (const [k, v] of Object.entries(i.metadata ?? {})) if (!k.startsWith('@') && typeof v === 'string') out.push([k, v]);
  return Object.fromEntries(out);
}

/** Eureka upper-cases application names (InstanceInfo.Builder.setAppName). */
export function appNameOf(service: string): string {
  return service.toUpperCase();
}

/** Key of one instance in a registry view: application and instance id. */
export function instanceKey(app: string, id: string): string {
  return `${app.toUpperCase()}\u0000${id}`;
}

export function idOf(i: EurekaInstance): string {
  return i.instanceId ?? `${i.hostName ?? i.ipAddr ?? ''}:${(i.app ?? '').toLowerCase()}:${portNumber(i.port) ?? 0}`;
}

/**
 * Eureka's reconcile hash (`Applications.getReconcileHashCode`): `STATUS_count_` for each status
 * present, in status-name order, over the status field of every instance. Clients compare it
 * after applying a delta; a mismatch means the local view drifted and a full fetch is due.
 */
export function reconcileHash(statuses: Iterable<string>): string {
  const counts = new Map<string, number>();
  for (const s of statuses) counts.set(s, (counts.get(s) ?? 0) + 1);
  return [...counts.keys()].sort().map((s) => `${s}_${counts.get(s)}_`).join('');
}
