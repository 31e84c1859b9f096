// Consul HTTP API shapes, as much of them as Isthmus reads. Field names are Consul's.

export type CheckStatus = 'passing' | 'warning' | 'critical' | 'maintenance';

export interface NativeCheck {
  readonly Node?: string;
  readonly CheckID: string;
  readonly Name?: string;
  readonly Status: string;
  readonly ServiceID?: string;
  /** Empty for a node check (GET /v1/health/state/:state lists both kinds). */
  readonly ServiceName?: string;
  readonly Output?: string;
}

export interface NativeService {
  readonly ID: string;
  readonly Service: string;
  readonly Tags?: readonly string[] | null;
  readonly Address?: string;
  readonly Port?: number;
  readonly Meta?: Readonly<Record<string, string>> | null;
  readonly Weights?: { readonly Passing?: number; readonly Warning?: number } | null;
  readonly ModifyIndex?: number;
}

export interface NativeNode {
  readonly Node: string;
  readonly Address: string;
  readonly Meta?: Readonly<Record<string, string>> | null;
}

/** One element of GET /v1/health/service/:name. */
export interface HealthEntry {
  readonly Node: NativeNode;
  readonly Service: NativeService;
  readonly Checks?: readonly NativeCheck[] | null;
}

/** GET /v1/catalog/services: service name → union of its instances' tags. */
export type ServiceList = Readonly<Record<string, readonly string[] | null>>;

/** GET /v1/catalog/node-services/:node (null Node when the node does not exist). */
export interface NodeServices {
  readonly Node: NativeNode | null;
  readonly Services: readonly NativeService[] | null;
}
