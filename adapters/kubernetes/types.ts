// The slice of the Kubernetes JSON shapes the adapter reads and writes. Plain structural types,
// so the pure conversion code and its tests never need the HTTP client; client.ts is the
// one place that turns these into API calls.

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface KServicePort {
  name?: string;
  port: number;
  targetPort?: number | string;
  nodePort?: number;
  protocol?: string;
  appProtocol?: string;
}

export interface KService {
  metadata?: ObjectMeta;
  spec?: {
    type?: string;
    clusterIP?: string;
    selector?: Record<string, string>;
    ports?: KServicePort[];
  };
  status?: { loadBalancer?: { ingress?: { ip?: string; hostname?: string }[] } };
}

export interface KSliceConditions {
  ready?: boolean;
  serving?: boolean;
  terminating?: boolean;
}

export interface KSliceEndpoint {
  addresses: string[];
  conditions?: KSliceConditions;
  nodeName?: string;
  zone?: string;
  hostname?: string;
  targetRef?: { kind?: string; name?: string; namespace?: string };
}

export interface KSlicePort {
  name?: string;
  port?: number;
  protocol?: string;
  appProtocol?: string;
}

export interface KEndpointSlice {
  metadata?: ObjectMeta;
  addressType: string;
  endpoints?: KSliceEndpoint[];
  ports?: KSlicePort[];
}

export interface KNode {
  metadata?: ObjectMeta;
  status?: { addresses?: { type: string; address: string }[] };
}

export interface KLease {
  metadata?: ObjectMeta;
  spec?: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

/** `namespace/name` of any namespaced object. */
export function objectKey(meta: ObjectMeta | undefined): string {
  return `${meta?.namespace ?? ''}/${meta?.name ?? ''}`;
}
