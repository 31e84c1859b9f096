// What a Eureka-side caller sees: the instances of one application whose effective status is UP
// (Spring Cloud Netflix's client keeps only those, eureka.client.filter-only-up-instances).
import { springWeight } from './consul-view.ts';
import type { VisibleInstance } from './sides.ts';

export interface EurekaInstance {
  readonly instanceId?: string;
  readonly app?: string;
  readonly ipAddr?: string;
  readonly hostName?: string;
  /** Effective status: an override (PUT …/status) is already applied here. */
  readonly status?: string;
  readonly overriddenStatus?: string;
  readonly port?: { readonly $?: number; readonly '@enabled'?: string };
  /** An instance registered without metadata comes back as {"@class": "java.util.Collections$EmptyMap"}. */
  readonly metadata?: Readonly<Record<string, string>>;
}

/** A list that the Eureka JSON codecs may also send as a lone object (older servers do). */
function many<T>(value: T | readonly T[] | undefined): readonly T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? (value as readonly T[]) : [value as T];
}

/**
 * Every instance of `service` (any status). Eureka upper-cases application names and answers
 * 404 for an application without instances. Without Accept it answers XML.
 */
export async function eurekaInstances(baseUrl: string, service: string, timeoutMs = 5000): Promise<EurekaInstance[]> {
  const res = await fetch(`${baseUrl}/apps/${encodeURIComponent(service.toUpperCase())}`, {
    headers: { accept: 'application/json' },
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (res.status === 404) return [];
  if (res.status !== 200) throw new Error(`eureka application ${service}: HTTP ${res.status}`);
  const body = (await res.json()) as { application?: { instance?: EurekaInstance | EurekaInstance[] } };
  return [...many(body.application?.instance)];
}

/**
 * The adapter's exported instances carry a metadata key of its own; its exact name is the
 * adapter's business (e.g. `isthmus.dev/owner`, `isthmus.source`), so any key starting with
 * "isthmus" counts, as in the Nacos view. Spring peers write only instance/side/weight/management.port.
 */
export function isExported(instance: EurekaInstance): boolean {
  return Object.keys(instance.metadata ?? {}).some((key) => key.startsWith('isthmus'));
}

export async function upInstances(baseUrl: string, service: string): Promise<VisibleInstance[]> {
  return (await eurekaInstances(baseUrl, service))
    .filter((i) => i.status === 'UP')
    .map((i) => ({
      address: i.ipAddr ?? i.hostName ?? '',
      port: i.port?.$ ?? 0,
      exported: isExported(i),
      // Spring Cloud LoadBalancer's `weighted` configuration reads metadata `weight` like Consul Meta.
      weight: springWeight(i.metadata),
    }));
}
