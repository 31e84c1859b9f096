import { PassThrough } from 'node:stream';
import type { Catalog, CatalogEntry } from '../catalog/index.ts';
import type { ServiceRef } from '../model/index.ts';
import { coalescedPush } from './coalesced-push.ts';
import type { WatchHub } from './watch-hub.ts';

export interface EventStreamTiming {
  /**
   * Quiet period before a change is sent: a rollout touches a service many times within a few
   * milliseconds and the client needs only the state after the burst (house rule 10).
   */
  readonly quietMs: number;
  /** Upper bound on the delay, so a service changing without pause still streams. */
  readonly maxDelayMs: number;
  /** Comment line that keeps proxies and load balancers from closing an idle stream. */
  readonly heartbeatMs: number;
}

export const DEFAULT_EVENT_TIMING: EventStreamTiming = { quietMs: 50, maxDelayMs: 1_000, heartbeatMs: 15_000 };

export interface EventStreamArgs {
  readonly hub: WatchHub;
  readonly catalog: Catalog;
  readonly ref: ServiceRef;
  /** The client's `Last-Event-ID`: skip the first snapshot when it is still current. */
  readonly lastEventId: number | undefined;
  /** JSON of the entry as this client filters it (shared with the lookup cache). */
  readonly render: (entry: CatalogEntry) => string;
  readonly timing: EventStreamTiming;
}

/**
 * A server-sent-events body following one service. It carries state, never deltas: every event
 * is the whole (filtered) entry, `event: snapshot`, or `event: deleted` while the service is
 * absent, with the index as the event id so a reconnecting EventSource resumes without a gap.
 *
 * A slow client is never queued more than one state: while the socket is backed up, changes only
 * mark the stream dirty and the latest state is written once it drains.
 *
 * The stream ends on drain (shutdown); when the client goes away the HTTP layer destroys it, and
 * either way its watcher and timers are released on 'close'.
 */
export function openEventStream(args: EventStreamArgs): PassThrough {
  const { hub, catalog, ref, render, timing } = args;
  const stream = new PassThrough();
  const pusher = coalescedPush({
    target: stream,
    closed: () => stream.destroyed || stream.writableEnded,
    index: () => hub.index(ref),
    write: (index) => {
      const entry = catalog.get(ref);
      stream.write(
        entry === undefined
          ? `event: deleted\nid: ${index}\ndata: ${JSON.stringify({ ref, revision: index })}\n\n`
          : `event: snapshot\nid: ${entry.revision}\ndata: ${render(entry)}\n\n`,
      );
    },
    quietMs: timing.quietMs,
    maxDelayMs: timing.maxDelayMs,
  });

  const heartbeat = setInterval(() => {
    if (!stream.writableNeedDrain && !stream.writableEnded) stream.write(': heartbeat\n\n');
  }, timing.heartbeatMs);

  const unwatch = hub.watch(ref, {
    changed: pusher.schedule,
    drained: () => {
      cleanup();
      stream.end();
    },
  });

  function cleanup(): void {
    clearInterval(heartbeat);
    pusher.stop();
    unwatch();
  }
  stream.once('close', cleanup);

  if (args.lastEventId !== undefined && !hub.changedSince(ref, args.lastEventId)) {
    // The client already holds this state. A comment still goes out so the response headers are
    // flushed and the client's EventSource reports the stream open.
    pusher.markSent(args.lastEventId);
    stream.write(': resumed\n\n');
  } else {
    pusher.push();
  }
  return stream;
}
