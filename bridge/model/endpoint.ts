import type { RegistryId } from './service-ref.ts';

/** Where an endpoint was first registered: the registry and that registry's own id for it. */
export interface EndpointOrigin {
  readonly registry: RegistryId;
  readonly nativeId: string;
}

/**
 * One instance of a service. Health follows the EndpointSlice conditions because they are the
 * richest of the four registries; every adapter maps its native health onto them (DESIGN §5).
 */
export interface Endpoint {
  readonly address: string;
  /** Port name → number. A single-port registry uses the name of the service's only port. */
  readonly ports: Readonly<Record<string, number>>;
  /** Application protocol (http, grpc, dubbo, tri…), when the registry knows it. */
  readonly protocol?: string;
  readonly ready: boolean;
  readonly serving: boolean;
  readonly terminating: boolean;
  /** Relative weight, 0–10000; 100 is the neutral value every registry maps to its own default. */
  readonly weight: number;
  readonly zone?: string;
  readonly node?: string;
  readonly metadata: Readonly<Record<string, string>>;
  readonly origin: EndpointOrigin;
}

export const DEFAULT_WEIGHT = 100;
export const MAX_WEIGHT = 10_000;

/** The three states every sink can express (DESIGN §5 table). */
export type Liveness = 'ready' | 'draining' | 'down';

export function liveness(ep: Pick<Endpoint, 'ready' | 'serving' | 'terminating'>): Liveness {
  if (ep.terminating) return ep.serving ? 'draining' : 'down';
  return ep.ready ? 'ready' : 'down';
}

/** Conditions for a liveness, for sources whose registry only knows the three states. */
export function conditionsOf(state: Liveness): Pick<Endpoint, 'ready' | 'serving' | 'terminating'> {
  switch (state) {
    case 'ready':
      return { ready: true, serving: true, terminating: false };
    case 'draining':
      return { ready: false, serving: true, terminating: true };
    case 'down':
      return { ready: false, serving: false, terminating: false };
  }
}

/** Address plus sorted ports: two endpoints with the same key are the same instance. */
export function endpointKey(ep: Pick<Endpoint, 'address' | 'ports'>): string {
  const ports = Object.entries(ep.ports)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([n, p]) => `${n}=${p}`)
    .join(',');
  return `${ep.address}|${ports}`;
}
