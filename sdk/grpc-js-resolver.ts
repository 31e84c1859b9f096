import { experimental, status, type ChannelOptions } from '@grpc/grpc-js';
import { portOf, usable, weightedSequence, type Preference } from './pick.ts';
import { parseTargetName, type ResolvedService, type Transport } from './types.ts';

export const SCHEME = 'isthmus';

export interface ResolverOptions {
  /** How to reach the bridge: an HttpTransport or a GrpcTransport. */
  readonly transport: Transport;
  readonly prefer?: Preference;
  /** Port name to dial (default: `grpc`, else the endpoint's only port). */
  readonly portName?: string;
  /** Length of the weighted round-robin sequence; 100 gives 1-point resolution of a split. */
  readonly slots?: number;
  /**
   * For channels in a mesh (an Istio sidecar beside the caller): dial the Kubernetes Service's
   * DNS name instead of instances, so the sidecar routes and splits the calls (Filters.mesh).
   */
  readonly mesh?: boolean;
}

/** Channel options that override the registered preference for one channel. */
export const CHANNEL_OPTION = { zone: 'isthmus.prefer_zone', origin: 'isthmus.prefer_origin', port: 'isthmus.port_name' } as const;

// round_robin over the weighted sequence is weighted round-robin; pick_first (the default) would
// pin every call to one endpoint.
const SERVICE_CONFIG = { loadBalancingConfig: [{ round_robin: {} }], methodConfig: [] };

function stringOption(options: ChannelOptions, key: string): string | undefined {
  const v = (options as Record<string, unknown>)[key];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** The grpc-js endpoint list for one state of the service. */
export function endpointsFor(service: ResolvedService | undefined, prefer: Preference, portName: string | undefined, slots: number): experimental.Endpoint[] {
  if (service === undefined) return [];
  const dialable = usable(service.endpoints, prefer).filter((ep) => portOf(ep, portName) !== undefined);
  return weightedSequence(dialable, slots).map((ep) => ({ addresses: [{ host: ep.address, port: portOf(ep, portName) ?? 0 }] }));
}

/**
 * Registers the `isthmus` scheme with @grpc/grpc-js: a channel on `isthmus:///orders.shop`
 * follows shop/orders through the bridge (a Watch, so adds and removals apply without a restart)
 * and balances calls by the endpoints' weights, which carry the service's migration split.
 * Written for grpc-js ≥ 1.14, whose resolver listener is a plain function.
 */
export function registerIsthmusResolver(options: ResolverOptions): void {
  const { transport } = options;
  const slots = options.slots ?? 100;

  class IsthmusResolver implements experimental.Resolver {
    readonly #listener: experimental.ResolverListener;
    readonly #stop: () => void;
    #last: experimental.Endpoint[] | undefined;

    constructor(target: experimental.GrpcUri, listener: experimental.ResolverListener, channelOptions: ChannelOptions) {
      this.#listener = listener;
      const service = parseTargetName(target.path);
      if (service === undefined) {
        this.#stop = () => undefined;
        this.#fail(`isthmus target "${target.path}" must be <name>.<namespace>, like isthmus:///orders.shop`);
        return;
      }
      const zone = stringOption(channelOptions, CHANNEL_OPTION.zone) ?? options.prefer?.zone;
      const origin = stringOption(channelOptions, CHANNEL_OPTION.origin) ?? options.prefer?.origin;
      const prefer: Preference = { ...(zone === undefined ? {} : { zone }), ...(origin === undefined ? {} : { origin }) };
      const portName = stringOption(channelOptions, CHANNEL_OPTION.port) ?? options.portName;
      this.#stop = transport.watch(service, { healthy: true, ...(options.mesh === true ? { mesh: true } : {}) }, {
        onUpdate: ({ service: state }) => {
          this.#push(endpointsFor(state, prefer, portName, slots), state === undefined ? 'service not in the catalog' : `revision ${state.revision}`);
        },
        onError: (err) => {
          // Keep serving the last good set through a bridge restart; only a channel that never
          // resolved learns about the failure.
          if (this.#last === undefined) this.#fail(`isthmus resolver unreachable: ${err.message}`);
        },
      });
    }

    #push(endpoints: experimental.Endpoint[], note: string): void {
      // An unchanged list is not handed on: grpc-js rebuilds every child balancer on each
      // update, and that churn would itself trigger re-resolution requests.
      if (this.#last !== undefined && sameList(this.#last, endpoints)) return;
      this.#last = endpoints;
      process.nextTick(() => {
        this.#listener(experimental.statusOrFromValue(endpoints), {}, experimental.statusOrFromValue(SERVICE_CONFIG), note);
      });
    }

    #fail(details: string): void {
      process.nextTick(() => {
        this.#listener(experimental.statusOrFromError({ code: status.UNAVAILABLE, details }), {}, null, details);
      });
    }

    /**
     * grpc-js asks again after connection failures. The watch already delivers every change, and
     * answering with the same list would rebuild the balancer and provoke the next request (a
     * busy loop), so there is nothing to do.
     */
    updateResolution(): void {
      // Intentionally empty: see above.
    }

    destroy(): void {
      this.#stop();
    }

    static getDefaultAuthority(target: experimental.GrpcUri): string {
      return target.path;
    }
  }

  experimental.registerResolver(SCHEME, IsthmusResolver);
}

function sameList(a: readonly experimental.Endpoint[], b: readonly experimental.Endpoint[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((ep, i) => experimental.endpointToString(ep) === (b[i] === undefined ? '' : experimental.endpointToString(b[i])));
}
