import type { ServerWritableStream } from '@grpc/grpc-js';
import type { Catalog } from '../catalog/index.ts';
import type { ServiceRef } from '../model/index.ts';
import type { Service, WatchRequest, WatchResponse } from '../../proto/gen/isthmus/v1/resolver.ts';
import { coalescedPush } from './coalesced-push.ts';
import type { EventStreamTiming } from './event-stream.ts';
import type { WatchHub } from './watch-hub.ts';

export interface GrpcWatchArgs {
  readonly call: ServerWritableStream<WatchRequest, WatchResponse>;
  readonly hub: WatchHub;
  readonly catalog: Catalog;
  readonly ref: ServiceRef;
  /** The entry as this caller filters it. */
  readonly render: (ref: ServiceRef) => Service | undefined;
  readonly timing: Pick<EventStreamTiming, 'quietMs' | 'maxDelayMs'>;
}

/**
 * One `Watch` stream: the full (filtered) set now, then the full set again after each change,
 * with bursts coalesced exactly as the SSE stream does. It carries state, never deltas, so a
 * slow client is never queued more than one message: while the transport is backed up changes
 * only mark the stream dirty, and the latest state goes out when it drains.
 *
 * Drain (shutdown) ends the stream with OK so the client reconnects to another replica; a client
 * that cancels releases the watcher and timers at once.
 */
export function serveWatch(args: GrpcWatchArgs): void {
  const { call, hub, ref, timing } = args;
  let closed = false;
  const pusher = coalescedPush({
    target: call,
    closed: () => closed,
    index: () => hub.index(ref),
    write: (index) => {
      const service = args.render(ref);
      call.write(service === undefined ? { index, deleted: true, service: undefined } : { index: service.revision, deleted: false, service });
    },
    quietMs: timing.quietMs,
    maxDelayMs: timing.maxDelayMs,
  });

  const cleanup = (): void => {
    if (closed) return;
    closed = true;
    pusher.stop();
    unwatch();
  };

  const unwatch = hub.watch(ref, {
    changed: pusher.schedule,
    drained: () => {
      cleanup();
      call.end();
    },
  });
  call.once('cancelled', cleanup);
  call.once('close', cleanup);
  call.once('error', cleanup);
  pusher.push();
}
