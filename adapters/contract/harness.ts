import type { Endpoint, ServiceRef } from '../../bridge/model/index.ts';
import type { Sink, Source } from '../../bridge/ports/index.ts';

/**
 * What an adapter provides so the contract suite can drive it against its real server. Every
 * method talks to the registry as it is; nothing is mocked. The harness isolates itself (unique
 * namespace, prefix or service names per run) so suites can share one server.
 */
export interface ContractHarness {
  /** A fresh service ref, unique to this harness run. */
  ref(name: string): ServiceRef;
  /** An endpoint the sink can store, numbered so tests can make many distinct ones. */
  endpoint(i: number, origin: string): Endpoint;
  /** A new sink client for `bridgeId`, started: a new one per call is a process restart. */
  sink(bridgeId: string): Promise<Sink>;
  /** A new source client, started. */
  source(): Promise<Source>;
  /** Registers an instance natively, as a VM application would (no Isthmus markers). */
  putNative(ref: ServiceRef, endpoint: Endpoint): Promise<void>;
  deleteNative(ref: ServiceRef, endpoint: Endpoint): Promise<void>;
  /** Addresses of every instance of `ref` the registry holds, whoever wrote them. */
  listAll(ref: ServiceRef): Promise<string[]>;
  /**
   * Optional: service metadata this registry's sink renders (e.g. the Dubbo interfaces
   * annotation), so the contract can check that a change to it converges.
   */
  serviceMetadata?(): Record<string, string>;
  /** True for a registry that stores every service metadata key (the memory registry). */
  readonly rendersAllMetadata?: boolean;
  /** Write requests sent to the registry so far by sinks this harness created. */
  writes(): number;
  /** Cuts `source` off from the registry; the returned function restores it. */
  cutOff(source: Source): Promise<() => Promise<void>>;
  /** Drops `source`'s watch so it must re-establish it. */
  dropWatch(source: Source): Promise<void>;
  close(): Promise<void>;
}
