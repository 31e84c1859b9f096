import { PassThrough } from 'node:stream';
import type { Catalog } from '../catalog/index.ts';
import { coalescedPush } from './coalesced-push.ts';
import type { EventStreamTiming } from './event-stream.ts';
import type { StatusFeed } from './status-feed.ts';
import type { WatchHub } from './watch-hub.ts';

export interface CatalogEventsArgs {
  readonly hub: WatchHub;
  readonly catalog: Catalog;
  readonly status: StatusFeed;
  /** The services summary JSON at the catalog's current revision (shared through the response cache). */
  readonly renderCatalog: () => string;
  /** The client's `Last-Event-ID`: a catalog revision it already holds. */
  readonly lastEventId: number | undefined;
  readonly timing: EventStreamTiming;
}

/**
 * The catalog-wide server-sent events stream behind `GET /v1/events` (the console's one
 * connection). Like the per-service stream it carries state, not deltas:
 *
 * - `event: catalog`, id = catalog revision: every service with its counts, sent now and after
 *   changes, a burst coalesced into one event (quietMs/maxDelayMs);
 * - `event: status`, no id: the status summary, sent now and whenever its rendering changes
 *   (the shared StatusFeed compares it once a second);
 * - `: heartbeat` comments.
 *
 * Status events carry no id so that an EventSource reconnecting sends the catalog revision it
 * holds as Last-Event-ID; the status is always sent again on connect since it is small.
 * A slow client is owed at most one state of each kind, as with the per-service stream.
 */
export function openCatalogEvents(args: CatalogEventsArgs): PassThrough {
  const { hub, catalog, status, timing } = args;
  const stream = new PassThrough();
  const closed = (): boolean => stream.destroyed || stream.writableEnded;

  const catalogPush = coalescedPush({
    target: stream,
    closed,
    index: () => catalog.revision(),
    write: (revision) => { stream.write(`event: catalog\nid: ${revision}\ndata: ${args.renderCatalog()}\n\n`); },
    quietMs: timing.quietMs,
    maxDelayMs: timing.maxDelayMs,
  });
  // The status changes at most once per feed interval, so it needs no coalescing of its own:
  // quiet 0 sends it on the next timer turn, or once the socket drains.
  const statusPush = coalescedPush({
    target: stream,
    closed,
    index: () => status.version,
    write: () => { stream.write(`event: status\ndata: ${status.body()}\n\n`); },
    quietMs: 0,
    maxDelayMs: 0,
  });

  const heartbeat = setInterval(() => {
    if (!stream.writableNeedDrain && !stream.writableEnded) stream.write(': heartbeat\n\n');
  }, timing.heartbeatMs);

  const unwatch = hub.watchAll({
    changed: catalogPush.schedule,
    drained: () => {
      cleanup();
      stream.end();
    },
  });
  const unsubscribe = status.subscribe(statusPush.schedule);

  function cleanup(): void {
    clearInterval(heartbeat);
    catalogPush.stop();
    statusPush.stop();
    unwatch();
    unsubscribe();
  }
  stream.once('close', cleanup);

  const revision = catalog.revision();
  // A Last-Event-ID ahead of the catalog comes from before a restart: send everything again.
  if (args.lastEventId !== undefined && args.lastEventId === revision) catalogPush.markSent(revision);
  else catalogPush.push();
  statusPush.push();
  return stream;
}
