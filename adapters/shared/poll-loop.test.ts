import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BridgeError } from '../../bridge/errors/index.ts';
import type { EngineLogger } from '../../bridge/sync/logger-port.ts';
import { PollLoop } from './poll-loop.ts';
import { SourceCache } from './source-cache.ts';

interface Line {
  readonly level: string;
  readonly msg: string;
  readonly obj: object;
}

function recordingLogger(lines: Line[]): EngineLogger {
  const at = (level: string) => (obj: object, msg: string): void => { lines.push({ level, msg, obj }); };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

const running: { abort: AbortController; done: Promise<void> }[] = [];

/** A running loop over a scripted poll; "ok" reports contact from inside the poll, as sources do. */
function setup(outcome: () => 'ok' | Error, intervalMs = 5000) {
  const lines: Line[] = [];
  const cache = new SourceCache('reg', { pending: [''] });
  let polls = 0;
  const loop: PollLoop = new PollLoop({ registry: 'reg', kind: 'demo', what: 'list', intervalMs, cache, logger: recordingLogger(lines) }, () => {
    polls++;
    const result = outcome();
    if (result instanceof Error) return Promise.reject(result);
    loop.contact();
    return Promise.resolve();
  });
  const abort = new AbortController();
  const done = loop.run(abort.signal);
  running.push({ abort, done });
  return { loop, cache, lines, abort, done, polls: () => polls };
}

describe('PollLoop', () => {
  beforeEach(() => { vi.useFakeTimers(); });
  afterEach(async () => {
    for (const r of running.splice(0)) {
      r.abort.abort();
      await r.done;
    }
    vi.useRealTimers();
  });

  it('polls at once, then every interval while the registry answers', async () => {
    const t = setup(() => 'ok');
    await vi.advanceTimersByTimeAsync(0);
    expect(t.polls()).toBe(1);
    expect(t.cache.reachable).toBe(true);
    // The first answer is no recovery: nothing was held yet.
    expect(t.lines).toEqual([]);
    await vi.advanceTimersByTimeAsync(4999);
    expect(t.polls()).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(t.polls()).toBe(2);
  });

  it('retries within a second while unreachable, freezing the cache and logging the 1st and every 10th failure', async () => {
    const t = setup(() => new Error('boom'));
    await vi.advanceTimersByTimeAsync(0);
    expect(t.cache.health()).toMatchObject({ reachable: false, lastError: 'boom' });
    await vi.advanceTimersByTimeAsync(9000);
    expect(t.polls()).toBe(10);
    expect(t.lines.map((l) => [l.level, l.msg, (l.obj as { failures: number }).failures])).toEqual([
      ['warn', 'demo list failed; cache frozen, retrying', 1],
      ['warn', 'demo list failed; cache frozen, retrying', 10],
    ]);
  });

  it('a short interval is kept as is when unreachable', async () => {
    const t = setup(() => new Error('boom'), 200);
    await vi.advanceTimersByTimeAsync(1000);
    expect(t.polls()).toBe(6);
  });

  it('a refused credential is an error line', async () => {
    const t = setup(() => new BridgeError('ISTHMUS_REGISTRY_AUTH', 'denied'));
    await vi.advanceTimersByTimeAsync(0);
    expect(t.lines.map((l) => [l.level, l.msg])).toEqual([['error', 'demo refused our credentials; cache frozen, nothing deleted, retrying']]);
  });

  it('contact after an outage of a synced source logs once, nudges every ref and restarts the failure count', async () => {
    let fail = false;
    const t = setup(() => (fail ? new Error('down') : 'ok'));
    await vi.advanceTimersByTimeAsync(0);
    t.cache.replace('orders', { snapshots: [{ ref: { namespace: 'a', name: 'orders' }, ports: [], endpoints: [], metadata: {}, origin: 'vm' }] });
    t.cache.markSynced();
    const nudged: string[] = [];
    t.cache.onChange((ref) => nudged.push(ref.name));
    fail = true;
    // Two failures: at 5 s, then the quick retry at 6 s (the second is not logged).
    await vi.advanceTimersByTimeAsync(5000 + 1000);
    fail = false;
    await vi.advanceTimersByTimeAsync(1000);
    expect(t.cache.reachable).toBe(true);
    expect(nudged).toEqual(['orders']);
    fail = true;
    await vi.advanceTimersByTimeAsync(5000);
    expect(t.lines.map((l) => [l.msg, (l.obj as { failures?: number }).failures])).toEqual([
      ['demo list failed; cache frozen, retrying', 1],
      ['demo reachable again', undefined],
      ['demo list failed; cache frozen, retrying', 1],
    ]);
  });

  it('wake ends the wait early, abort ends the loop', async () => {
    const t = setup(() => 'ok');
    await vi.advanceTimersByTimeAsync(0);
    t.loop.wake();
    await vi.advanceTimersByTimeAsync(0);
    expect(t.polls()).toBe(2);
    t.abort.abort();
    await t.done;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(t.polls()).toBe(2);
  });
});
