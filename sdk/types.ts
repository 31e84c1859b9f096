/** `namespace/name` of a service in the Isthmus catalog. */
export interface ServiceName {
  readonly namespace: string;
  readonly name: string;
}

/** Endpoint filters; the same as the HTTP query parameters and the gRPC EndpointFilters. */
export interface Filters {
  /** Only endpoints whose ready condition is true. */
  readonly healthy?: boolean;
  /** Only endpoints registered in this registry id. */
  readonly origin?: string;
  readonly zone?: string;
  /**
   * Mesh mode, for callers with a sidecar (Istio): one endpoint, the Kubernetes Service's DNS
   * name (`<svc>.<ns>.svc.cluster.local`) with its ports, so calls go through the mesh and its
   * traffic split. A service with no Kubernetes Service keeps its instance addresses.
   */
  readonly mesh?: boolean;
}

export interface ResolvedEndpoint {
  readonly address: string;
  /** Port name → number. */
  readonly ports: Readonly<Record<string, number>>;
  readonly protocol?: string;
  readonly ready: boolean;
  /** 0-10000, with the service's migration split already applied by the bridge. */
  readonly weight: number;
  readonly zone?: string;
  /** Registry id the endpoint was registered in (the "side": a VM registry or Kubernetes). */
  readonly origin: string;
  readonly metadata: Readonly<Record<string, string>>;
}

export interface ResolvedService {
  readonly namespace: string;
  readonly name: string;
  /** Catalog revision of this state; resume watches with it. */
  readonly revision: number;
  readonly endpoints: readonly ResolvedEndpoint[];
  readonly registries: readonly string[];
  /** Migration split in force (registry id → share), empty when none. */
  readonly split: Readonly<Record<string, number>>;
}

export interface ServiceListing {
  readonly revision: number;
  readonly services: readonly { readonly namespace: string; readonly name: string; readonly endpoints: number; readonly ready: number }[];
}

/** One watch delivery: the whole current state (never a delta); undefined = the service is absent. */
export interface WatchUpdate {
  readonly index: number;
  readonly service: ResolvedService | undefined;
}

export interface WatchHandlers {
  readonly onUpdate: (update: WatchUpdate) => void;
  /** A connection failed; the watch keeps reconnecting on its own. */
  readonly onError?: (err: Error) => void;
}

/** What the client needs from a wire protocol; HTTP and gRPC implement it. */
export interface Transport {
  listServices(namespace?: string): Promise<ServiceListing>;
  /** Undefined when the service is not in the catalog. */
  resolve(service: ServiceName, filters?: Filters): Promise<ResolvedService | undefined>;
  /** Follows a service until the returned function is called; reconnects and resumes by itself. */
  watch(service: ServiceName, filters: Filters, handlers: WatchHandlers): () => void;
  close(): void;
}

export class IsthmusError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'IsthmusError';
    this.code = code;
  }
}

/** `orders.shop` → shop/orders; the name may hold dots (Dubbo interfaces), the namespace may not. */
export function parseTargetName(text: string): ServiceName | undefined {
  const dot = text.lastIndexOf('.');
  if (dot <= 0 || dot === text.length - 1) return undefined;
  return { namespace: text.slice(dot + 1), name: text.slice(0, dot) };
}
