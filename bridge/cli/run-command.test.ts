import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { BridgeError } from '../errors/index.ts';
import { installShutdown } from '../runtime/shutdown.ts';
import type { CliDeps } from './deps.ts';
import { runCli } from './run-cli.ts';
import { SignalRelay, type ProcessSignals } from './signal-relay.ts';
import { GOOD_CONFIG, captureIo, configFile, fakeDeps } from './testing.ts';

/** A process stand-in, and its exit as a separate spy. */
function fakeProcess(): { proc: EventEmitter & ProcessSignals; exit: ReturnType<typeof vi.fn<(code: number) => void>> } {
  const exit = vi.fn<(code: number) => void>();
  return { proc: Object.assign(new EventEmitter(), { exit }), exit };
}

describe('run: configuration failures exit 2, before anything starts', () => {
  it('a missing resolver token file stops run before the bridge starts, naming file and path', async () => {
    const missing = join(configFile('x'), '..', 'no-token');
    const run = vi.fn(() => Promise.resolve());
    const { io, err } = captureIo();
    const text = `${GOOD_CONFIG}resolver:\n  auth: { tokenFile: "${missing}" }\n`;
    expect(await runCli(['run', '-c', configFile(text)], fakeDeps({ run }), io)).toBe(2);
    expect(run).not.toHaveBeenCalled();
    expect(err()).toContain(`/resolver/auth/tokenFile: cannot read secret file "${missing}" (ENOENT) (line 11)`);
  });

  it('a config error raised while starting is exit 2 too, logged without a stack trace', async () => {
    const run = () => Promise.reject(new BridgeError('ISTHMUS_CONFIG_UNREADABLE', 'secret file "/run/t" is empty', { terminal: true, details: { file: '/run/t' } }));
    const { io, out, err } = captureIo();
    expect(await runCli(['run', '-c', configFile(GOOD_CONFIG)], fakeDeps({ run }), io)).toBe(2);
    expect(err()).toContain('error: secret file "/run/t" is empty');
    const fatal = JSON.parse(out().trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
    expect(fatal).toMatchObject({ level: 'fatal', code: 'ISTHMUS_CONFIG_UNREADABLE', file: '/run/t' });
    expect(out()).not.toContain('stack');
  });
});

describe('run: signals', () => {
  /** A bridge that installs the shutdown sequence on what the CLI hands it, like runBridge. */
  function bridge(onDone: () => void = () => undefined): CliDeps['run'] {
    return async (_config, opts) => {
      const shutdown = installShutdown({ logger: opts.logger, ...(opts.signals === undefined ? {} : { signals: opts.signals }), steps: [{ name: 'work', run: () => undefined }] });
      if (opts.signal?.aborted === true) void shutdown.trigger('stop requested');
      await shutdown.done;
      shutdown.dispose();
      onDone();
    };
  }

  it('a second signal after the sequence finished, before the process is gone, exits 1 (not 143)', async () => {
    const { proc, exit } = fakeProcess();
    const { io } = captureIo({ process: proc });
    const run = bridge(() => proc.emit('SIGTERM', 'SIGTERM'));
    const code = runCli(['run', '-c', configFile(GOOD_CONFIG)], fakeDeps({ run }), io);
    await vi.waitFor(() => { expect(proc.listenerCount('SIGTERM')).toBe(1); });
    proc.emit('SIGTERM', 'SIGTERM');
    expect(await code).toBe(0);
    expect(exit).toHaveBeenCalledWith(1);
    // Still held after the command: exiting takes time as well.
    exit.mockClear();
    proc.emit('SIGTERM', 'SIGTERM');
    expect(exit).toHaveBeenCalledWith(1);
  });

  it('a signal during start-up stops the bridge once it is up, exit 0', async () => {
    const { proc, exit } = fakeProcess();
    const { io } = captureIo({ process: proc });
    const inner = bridge();
    const run: CliDeps['run'] = async (config, opts) => {
      proc.emit('SIGINT', 'SIGINT'); // before the sequence is installed
      await inner(config, opts);
    };
    expect(await runCli(['run', '-c', configFile(GOOD_CONFIG)], fakeDeps({ run }), io)).toBe(0);
    expect(exit).not.toHaveBeenCalled();
  });
});

describe('SignalRelay', () => {
  it('forwards to the installed listener; without one, asks to stop once, then exits 1', () => {
    const { proc, exit } = fakeProcess();
    const onStop = vi.fn();
    const relay = new SignalRelay(proc, { onStop });
    const seen: string[] = [];
    const listener = (s: NodeJS.Signals) => { seen.push(s); };
    relay.on('SIGTERM', listener);
    proc.emit('SIGTERM', 'SIGTERM');
    expect(seen).toEqual(['SIGTERM']);
    expect(onStop).not.toHaveBeenCalled();
    relay.off('SIGTERM', listener);
    proc.emit('SIGINT', 'SIGINT');
    expect(exit).toHaveBeenCalledWith(1);

    const { proc: early, exit: earlyExit } = fakeProcess();
    const stop = vi.fn();
    const r2 = new SignalRelay(early, { onStop: stop });
    early.emit('SIGINT', 'SIGINT');
    expect(stop).toHaveBeenCalledWith('SIGINT');
    expect(earlyExit).not.toHaveBeenCalled();
    early.emit('SIGINT', 'SIGINT');
    expect(earlyExit).toHaveBeenCalledWith(1);
    r2.close();
    relay.close();
    expect(early.listenerCount('SIGINT') + proc.listenerCount('SIGINT')).toBe(0);
  });
});
