import { usable, weightedSequence, type Preference } from './pick.ts';
import type { Filters, ResolvedEndpoint, ResolvedService, ServiceListing, ServiceName, Transport, WatchHandlers } from './types.ts';

/**
 * A small client over either transport: lookups, watches, and a `picker` for callers that are
 * not gRPC (HTTP clients, scripts) that want the same weighted, preference-aware choice as the
 * grpc-js resolver.
 */
export class IsthmusClient {
  readonly #transport: Transport;

  constructor(transport: Transport) {
    this.#transport = transport;
  }

  listServices(namespace?: string): Promise<ServiceListing> {
    return this.#transport.listServices(namespace);
  }

  resolve(service: ServiceName, filters?: Filters): Promise<ResolvedService | undefined> {
    return this.#transport.resolve(service, filters);
  }

  watch(service: ServiceName, handlers: WatchHandlers, filters: Filters = {}): () => void {
    return this.#transport.watch(service, filters, handlers);
  }

  /**
   * Follows a service and hands out endpoints by weighted round-robin. `next()` is undefined
   * until the first state arrives and while nothing is ready.
   */
  picker(service: ServiceName, prefer: Preference = {}, options: { mesh?: boolean } = {}): { next(): ResolvedEndpoint | undefined; close(): void } {
    let sequence: ResolvedEndpoint[] = [];
    let at = 0;
    const stop = this.#transport.watch(service, { healthy: true, ...(options.mesh === true ? { mesh: true } : {}) }, {
      onUpdate: ({ service: state }) => {
        sequence = weightedSequence(usable(state?.endpoints ?? [], prefer));
        at = 0;
      },
    });
    return {
      next: () => {
        if (sequence.length === 0) return undefined;
        const ep = sequence[at % sequence.length];
        at = (at + 1) % sequence.length;
        return ep;
      },
      close: stop,
    };
  }

  close(): void {
    this.#transport.close();
  }
}
