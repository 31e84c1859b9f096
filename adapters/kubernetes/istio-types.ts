// The fields of Istio's networking.istio.io/v1 objects that the Istio mode writes and compares.
// Plain structural types like types.ts; istio.io/api's CRD schemas (installed in the integration
// tests) are the authority on what the API server accepts.
import type { CustomResource } from './client.ts';
import type { ObjectMeta } from './types.ts';

export const ISTIO_GROUP = 'networking.istio.io';
export const ISTIO_VERSION = 'v1';
const istio = (plural: string): CustomResource => ({ group: ISTIO_GROUP, version: ISTIO_VERSION, plural });

export const WORKLOAD_ENTRIES = istio('workloadentries');
export const SERVICE_ENTRIES = istio('serviceentries');
export const DESTINATION_RULES = istio('destinationrules');
export const VIRTUAL_SERVICES = istio('virtualservices');

/** Any Istio object we write: `spec` is compared as a whole (fingerprint of exactly what we render). */
export interface IstioObject<Spec> {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  spec?: Spec;
}

export interface WorkloadEntrySpec {
  address?: string;
  ports?: Record<string, number>;
  labels?: Record<string, string>;
  locality?: string;
  weight?: number;
  network?: string;
  serviceAccount?: string;
}

export interface ServiceEntryPort {
  number: number;
  name: string;
  protocol?: string;
  targetPort?: number;
}

export interface ServiceEntrySpec {
  hosts?: string[];
  addresses?: string[];
  ports?: ServiceEntryPort[];
  location?: string;
  resolution?: string;
  workloadSelector?: { labels?: Record<string, string> };
  exportTo?: string[];
}

export interface Subset {
  name: string;
  labels?: Record<string, string>;
  trafficPolicy?: { tls?: { mode?: string } };
}

export interface DestinationRuleSpec {
  host?: string;
  subsets?: Subset[];
  exportTo?: string[];
}

export interface RouteDestination {
  destination: { host: string; subset?: string };
  weight?: number;
}

export interface VirtualServiceSpec {
  hosts?: string[];
  exportTo?: string[];
  http?: { name?: string; route: RouteDestination[] }[];
  tcp?: { route: RouteDestination[] }[];
}

export type KWorkloadEntry = IstioObject<WorkloadEntrySpec>;
export type KServiceEntry = IstioObject<ServiceEntrySpec>;
export type KDestinationRule = IstioObject<DestinationRuleSpec>;
export type KVirtualService = IstioObject<VirtualServiceSpec>;
