// The launcher's forwarding rule on a fake clock: every way a signal reaches npm, the launcher
// and the child must end with the child having it exactly once.
import { describe, expect, it } from 'vitest';
import { SignalForwarder, type ForwardClock } from './forward.ts';
import type { LaunchedSignal } from './signal-protocol.ts';

const WINDOW = 1000;

class FakeClock implements ForwardClock {
  t = 0;
  #timers: { at: number; fn: () => void }[] = [];

  now(): number {
    return this.t;
  }

  after(ms: number, fn: () => void): void {
    this.#timers.push({ at: this.t + ms, fn });
  }

  advance(ms: number): void {
    const until = this.t + ms;
    for (;;) {
      const due = this.#timers.filter((x) => x.at <= until).sort((a, b) => a.at - b.at)[0];
      if (due === undefined) break;
      this.#timers = this.#timers.filter((x) => x !== due);
      this.t = due.at;
      due.fn();
    }
    this.t = until;
  }
}

function setup(): { clock: FakeClock; forwarder: SignalForwarder; forwarded: LaunchedSignal[] } {
  const clock = new FakeClock();
  const forwarded: LaunchedSignal[] = [];
  const forwarder = new SignalForwarder((s) => { forwarded.push(s); }, WINDOW, clock);
  return { clock, forwarder, forwarded };
}

describe('SignalForwarder', () => {
  it('a signal to npm alone (a supervisor): forwarded once, after the window', () => {
    const { clock, forwarder, forwarded } = setup();
    forwarder.received('SIGTERM');
    clock.advance(WINDOW - 1);
    expect(forwarded).toEqual([]);
    clock.advance(1);
    expect(forwarded).toEqual(['SIGTERM']);
    // The child's report of the forwarded signal is ours; it does not count for later ones.
    forwarder.reported('SIGTERM');
    clock.advance(5000);
    forwarder.received('SIGTERM');
    clock.advance(WINDOW);
    expect(forwarded).toEqual(['SIGTERM', 'SIGTERM']);
  });

  it('Ctrl-C (the group, then npm relaying it): the child has it, nothing is forwarded', () => {
    const { clock, forwarder, forwarded } = setup();
    forwarder.received('SIGINT');
    clock.advance(2);
    forwarder.reported('SIGINT');
    clock.advance(3);
    forwarder.received('SIGINT');
    clock.advance(3 * WINDOW);
    expect(forwarded).toEqual([]);
  });

  it('the child reports before the launcher sees its own copy', () => {
    const { clock, forwarder, forwarded } = setup();
    forwarder.reported('SIGINT');
    clock.advance(5);
    forwarder.received('SIGINT');
    forwarder.received('SIGINT');
    clock.advance(3 * WINDOW);
    expect(forwarded).toEqual([]);
  });

  it('a second Ctrl-C later is a new delivery: the child gets it from the terminal, again not from us', () => {
    const { clock, forwarder, forwarded } = setup();
    for (let press = 0; press < 2; press++) {
      forwarder.received('SIGINT');
      forwarder.reported('SIGINT');
      forwarder.received('SIGINT');
      clock.advance(2 * WINDOW);
    }
    expect(forwarded).toEqual([]);
  });

  it('an old report does not stand in for a new delivery', () => {
    const { clock, forwarder, forwarded } = setup();
    forwarder.reported('SIGTERM');
    clock.advance(WINDOW + 1);
    forwarder.received('SIGTERM');
    clock.advance(WINDOW);
    expect(forwarded).toEqual(['SIGTERM']);
  });

  it('kinds are independent: a reported SIGINT does not cover a SIGTERM', () => {
    const { clock, forwarder, forwarded } = setup();
    forwarder.received('SIGINT');
    forwarder.reported('SIGINT');
    forwarder.received('SIGTERM');
    clock.advance(WINDOW);
    expect(forwarded).toEqual(['SIGTERM']);
  });
});
