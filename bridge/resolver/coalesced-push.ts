/**
 * What a state-carrying watch stream (SSE, gRPC Watch) needs from the stream it writes to:
 * Node's backpressure signal and the `drain` event.
 */
export interface PushTarget {
  readonly writableNeedDrain: boolean;
  once(event: 'drain', listener: () => void): unknown;
}

export interface CoalescedPushArgs {
  readonly target: PushTarget;
  /** True once the stream is gone; nothing is written after that. */
  readonly closed: () => boolean;
  /** The watched entry's index now; a state already sent at this index is not sent again. */
  readonly index: () => number;
  /** Writes the current state, which stands for `index`. */
  readonly write: (index: number) => void;
  readonly quietMs: number;
  readonly maxDelayMs: number;
}

export interface CoalescedPush {
  /** Sends the current state now, unless already sent or the stream is backed up. */
  readonly push: () => void;
  /**
   * A change happened. After a quiet time it goes out at once (next timer turn); within a burst,
   * once the burst is over (quietMs), at the latest maxDelayMs after the burst began.
   */
  readonly schedule: () => void;
  /** Marks `index` as already held by the client (a resumed stream). */
  readonly markSent: (index: number) => void;
  readonly stop: () => void;
}

/**
 * The loop both watch transports share. Streams carry state, never deltas, so a slow client is
 * never queued more than one state: while the transport is backed up changes only leave the
 * stream dirty, and the latest state goes out on `drain`.
 *
 * Coalescing is leading-edge: a change after quietMs with neither a change nor a write goes out
 * on the next timer turn, so an isolated change costs no quiet period (DESIGN §12's fan-out
 * budget is 100 ms, the quiet period 50). Changes arriving after that, the rest of a rollout's
 * burst, wait for the burst to end as before, so a burst still costs at most two writes
 * (plus one per maxDelayMs while it lasts). The leading push waits a timer turn rather than
 * writing inside the catalog's change path, so changes made in the same turn travel together.
 */
export function coalescedPush(args: CoalescedPushArgs): CoalescedPush {
  let sent: number | undefined;
  let timer: NodeJS.Timeout | undefined;
  /** The pending timer is a leading push: later changes in this turn ride along with it. */
  let leading = false;
  let burstStart = 0;
  let lastChange = Number.NEGATIVE_INFINITY;
  let lastWrite = Number.NEGATIVE_INFINITY;
  let waitingForDrain = false;

  const push = (): void => {
    timer = undefined;
    leading = false;
    if (args.closed()) return;
    if (args.target.writableNeedDrain) {
      if (!waitingForDrain) {
        waitingForDrain = true;
        args.target.once('drain', () => {
          waitingForDrain = false;
          push();
        });
      }
      return;
    }
    const index = args.index();
    if (index === sent) return;
    sent = index;
    lastWrite = Date.now();
    args.write(index);
  };

  return {
    push,
    schedule: () => {
      const now = Date.now();
      const quiet = now - lastChange >= args.quietMs && now - lastWrite >= args.quietMs;
      lastChange = now;
      if (leading) return;
      if (timer === undefined) {
        burstStart = now;
        if (quiet) {
          leading = true;
          timer = setTimeout(push, 0);
          return;
        }
      } else {
        clearTimeout(timer);
      }
      const delay = Math.max(0, Math.min(args.quietMs, burstStart + args.maxDelayMs - now));
      timer = setTimeout(push, delay);
    },
    markSent: (index) => {
      sent = index;
    },
    stop: () => {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      leading = false;
    },
  };
}
