import type { ServiceRef } from '../model/index.ts';
import { coalescedPush, type PushTarget } from './coalesced-push.ts';
import type { EventStreamTiming } from './event-stream.ts';
import type { StreamCall } from './grpc-server.ts';
import type { Holding, SendBudget } from './send-budget.ts';
import type { WatchHub } from './watch-hub.ts';

export interface GrpcWatchArgs {
  readonly call: StreamCall;
  readonly hub: WatchHub;
  readonly ref: ServiceRef;
  /** The framed state at `index` as this caller filters it (a `deleted` message while the service is absent). */
  readonly message: (index: number) => Buffer;
  readonly timing: Pick<EventStreamTiming, 'quietMs' | 'maxDelayMs'>;
  /** Unsent bytes shared by every Watch stream of this resolver. */
  readonly budget: SendBudget;
  /** How long a client may leave a state untaken before the stream is reset. */
  readonly slowConsumerMs: number;
  /** The stream was reset as a slow consumer (for stats and the log). */
  readonly onSlowConsumer: () => void;
}

/**
 * One `Watch` stream: the full (filtered) set now, then the full set again after each change,
 * with bursts coalesced exactly as the SSE stream does. It carries state, never deltas, so a
 * stream holds at most one unsent state: the next is written only once the client has taken the
 * last (a plain stream would queue every state behind a client that stopped reading), and changes meanwhile only mark it
 * dirty. Writes also wait for room in the resolver's send budget.
 *
 * A client that leaves a state untaken for `slowConsumerMs` (or for the budget's shorter pressure
 * time while other streams wait for room) has its stream reset, which frees the state; it
 * reconnects and gets the current one. Drain (shutdown) ends the stream with OK so the
 * client reconnects to another replica; a client that cancels releases everything at once.
 */
export function serveWatch(args: GrpcWatchArgs): void {
  const { call, hub, ref, timing, budget } = args;
  let closed = false;
  /** The state written and not yet taken by the client. */
  let holding: Holding | undefined;
  /** The budget woke this stream: its turn, whoever else is waiting. */
  let granted = false;
  let stall: NodeJS.Timeout | undefined;
  const resumers: (() => void)[] = [];
  const resume = (): void => { for (const r of resumers.splice(0)) r(); };
  const onRoom = (): void => {
    // The waiting push runs (and writes, if there is news) synchronously inside resume(); a turn
    // it did not use is not kept for later.
    granted = true;
    resume();
    granted = false;
  };

  // What coalescedPush waits on: our own unsent state first, then room in the budget.
  const target: PushTarget = {
    get writableNeedDrain() {
      return holding !== undefined || !(granted || budget.hasRoom());
    },
    once: (_event, listener) => {
      resumers.push(listener);
      if (holding === undefined) budget.wait(onRoom);
      return target;
    },
  };

  const release = (): void => {
    clearTimeout(stall);
    if (holding !== undefined) budget.give(holding);
    holding = undefined;
  };

  const taken = (): void => {
    if (closed) return;
    release();
    resume();
  };

  const slow = (): void => {
    if (closed) return;
    cleanup();
    args.onSlowConsumer();
    call.reset();
  };

  const pusher = coalescedPush({
    target,
    closed: () => closed,
    index: () => hub.index(ref),
    write: (index) => {
      const message = args.message(index);
      holding = { since: Date.now(), evict: slow };
      budget.take(holding, message.length);
      if (Number.isFinite(args.slowConsumerMs)) stall = setTimeout(slow, args.slowConsumerMs);
      call.write(message, taken);
    },
    quietMs: timing.quietMs,
    maxDelayMs: timing.maxDelayMs,
  });

  function cleanup(): void {
    if (closed) return;
    closed = true;
    clearTimeout(stall);
    pusher.stop();
    unwatch();
    budget.forget(onRoom);
    resumers.length = 0;
    release();
  }

  const unwatch = hub.watch(ref, {
    changed: pusher.schedule,
    drained: () => {
      cleanup();
      call.end();
    },
  });
  call.onClose(cleanup);
  pusher.push();
}
