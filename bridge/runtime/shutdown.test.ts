import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from './logger.ts';
import { installShutdown, standardSteps } from './shutdown.ts';
import type { ShutdownHandle, SignalSource } from './shutdown.ts';

function setup(steps: Parameters<typeof standardSteps>[0] | undefined, extra: { deadlineMs?: number } = {}) {
  const lines: string[] = [];
  const logger = createLogger({ destination: { write: (s: string) => void lines.push(s) } });
  const signals = new EventEmitter() as EventEmitter & SignalSource;
  const exit = vi.fn<(code: number) => void>();
  const order: string[] = [];
  const handle = installShutdown({
    logger,
    signals,
    exit,
    ...extra,
    steps: standardSteps(
      steps ?? {
        failReadiness: () => order.push('fail readiness'),
        stopResolver: () => Promise.resolve(void order.push('stop resolver')),
        stopEngine: () => Promise.resolve(void order.push('stop engine')),
        releaseLease: () => Promise.resolve(void order.push('release lease')),
        flushLogs: () => Promise.resolve(void order.push('flush logs')),
      },
    ),
  });
  handles.push(handle);
  const messages = () => lines.map((l) => JSON.parse(l) as { msg: string; step?: string });
  return { signals, exit, order, handle, messages };
}

const handles: ShutdownHandle[] = [];

describe('installShutdown', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    for (const h of handles.splice(0)) h.dispose();
    vi.useRealTimers();
  });

  it('runs the steps in order on the first signal, logs each and does not exit', async () => {
    const { signals, exit, order, handle, messages } = setup(undefined);
    signals.emit('SIGTERM', 'SIGTERM');
    await handle.done;
    expect(order).toEqual(['fail readiness', 'stop resolver', 'stop engine', 'release lease', 'flush logs']);
    expect(messages().filter((m) => m.msg === 'shutdown step done').map((m) => m.step)).toEqual(order);
    expect(exit).not.toHaveBeenCalled();
  });

  it('logs a failing step and carries on', async () => {
    const order: string[] = [];
    const { signals, handle, messages } = setup({
      failReadiness: () => order.push('ready'),
      stopEngine: () => Promise.reject(new Error('engine stuck')),
      releaseLease: () => Promise.resolve(void order.push('lease')),
      flushLogs: () => Promise.resolve(),
    });
    signals.emit('SIGINT', 'SIGINT');
    await handle.done;
    expect(order).toEqual(['ready', 'lease']);
    expect(messages()).toContainEqual(expect.objectContaining({ msg: 'shutdown step failed; continuing', step: 'stop engine' }));
  });

  it('exits(1) at once on a second signal', () => {
    const { signals, exit } = setup({
      failReadiness: () => undefined,
      stopEngine: () => new Promise(() => undefined),
      flushLogs: () => Promise.resolve(),
    });
    signals.emit('SIGTERM', 'SIGTERM');
    expect(exit).not.toHaveBeenCalled();
    signals.emit('SIGINT', 'SIGINT');
    expect(exit).toHaveBeenCalledWith(1);
  });

  it('forces exit(1) when the deadline passes', async () => {
    const { handle, exit } = setup(
      { failReadiness: () => undefined, stopEngine: () => new Promise(() => undefined), flushLogs: () => Promise.resolve() },
      { deadlineMs: 5_000 },
    );
    void handle.trigger('test');
    await vi.advanceTimersByTimeAsync(4_999);
    expect(exit).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(exit).toHaveBeenCalledExactlyOnceWith(1);
  });

  it('gives up on a step after its own timeout', async () => {
    const order: string[] = [];
    const handle = installShutdown({
      logger: createLogger({ destination: { write: () => undefined } }),
      signals: new EventEmitter() as EventEmitter & SignalSource,
      exit: vi.fn(),
      steps: [
        { name: 'hung', run: () => new Promise(() => undefined), timeoutMs: 1_000 },
        { name: 'after', run: () => void order.push('after') },
      ],
    });
    handles.push(handle);
    void handle.trigger('test');
    await vi.advanceTimersByTimeAsync(1_000);
    await handle.done;
    expect(order).toEqual(['after']);
  });

  it('installs once per signal source and is idempotent when triggered twice', async () => {
    const { signals, handle, order } = setup(undefined);
    expect(() => installShutdown({ logger: createLogger({ destination: { write: () => undefined } }), signals, steps: [] })).toThrow(/already installed/);
    const first = handle.trigger('a');
    const second = handle.trigger('b');
    expect(second).toBe(first);
    await handle.done;
    expect(order.filter((s) => s === 'stop engine')).toHaveLength(1);
    expect(handle.isStarted()).toBe(true);
  });
});
