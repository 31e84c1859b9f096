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
  /** A change happened: push once the burst is over (quietMs), at the latest maxDelayMs after its start. */
  readonly schedule: () => void;
  /** Marks `index` as already held by the client (a resumed stream). */
  readonly markSent: (index: number) => void;
  readonly stop: () => void;
}

/**
 * The loop both watch transports share. Streams carry state, never deltas, so a slow client is
 * never queued more than one state: while the transport is backed up changes only leave the
 * stream dirty, and the latest state goes out on `drain`.
 */
export function coalescedPush(args: CoalescedPushArgs): CoalescedPush {
  let sent: number | undefined;
  let timer: NodeJS.Timeout | undefined;
  let burstStart = 0;
  let waitingForDrain = false;

  const push = (): void => {
    timer = undefined;
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
    args.write(index);
  };

  return {
    push,
    schedule: () => {
      const now = Date.now();
      if (timer === undefined) burstStart = now;
      else clearTimeout(timer);
      const delay = Math.max(0, Math.min(args.quietMs, burstStart + args.maxDelayMs - now));
      timer = setTimeout(push, delay);
    },
    markSent: (index) => {
      sent = index;
    },
    stop: () => {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
    },
  };
}
