// What a Consul-side caller sees: the passing instances of a service (the query Spring Cloud
// Consul makes with query-passing=true).
import { getJson } from './net.ts';

export interface ConsulInstance {
  readonly id: string;
  readonly address: string;
  readonly port: number;
  /** Written by an Isthmus bridge (exported from Kubernetes). */
  readonly exported: boolean;
  /** Weights.Passing (DNS, Consul's own callers). */
  readonly weight: number | undefined;
  /**
   * What Spring Cloud LoadBalancer's weighted supplier makes of Meta `weight`: Integer.parseInt,
   * and 1 when absent, unparsable or not positive.
   */
  readonly callerWeight: number;
}

export function springWeight(meta: Readonly<Record<string, string>> | undefined): number {
  const raw = meta?.['weight'];
  const n = raw !== undefined && /^[+-]?\d+$/.test(raw) ? Number(raw) : Number.NaN;
  return Number.isSafeInteger(n) && n > 0 ? n : 1;
}

interface HealthEntry {
  Service?: { ID?: string; Address?: string; Port?: number; Tags?: string[]; Meta?: Record<string, string>; Weights?: { Passing?: number } };
  Node?: { Address?: string };
}

export async function passingInstances(consulUrl: string, service: string): Promise<ConsulInstance[]> {
  const { status, body } = await getJson(`${consulUrl}/v1/health/service/${encodeURIComponent(service)}?passing=true`);
  if (status !== 200 || !Array.isArray(body)) throw new Error(`consul health query for ${service}: HTTP ${status}`);
  return (body as HealthEntry[]).map((e) => ({
    id: e.Service?.ID ?? '',
    address: e.Service?.Address !== undefined && e.Service.Address !== '' ? e.Service.Address : (e.Node?.Address ?? ''),
    port: e.Service?.Port ?? 0,
    exported: (e.Service?.Tags ?? []).includes('isthmus') || e.Service?.Meta?.['external-source'] === 'isthmus',
    weight: e.Service?.Weights?.Passing,
    callerWeight: springWeight(e.Service?.Meta),
  }));
}
