import type { Logger } from './logger.ts';

/** One named step of the shutdown sequence. Errors are logged and the next step still runs. */
export interface ShutdownStep {
  readonly name: string;
  run(): Promise<void> | void;
  /** Give up waiting for this step after this long, so a hung step cannot block the lease release. */
  readonly timeoutMs?: number;
}

/** Where signals come from; `process` in production, an EventEmitter in tests. */
export interface SignalSource {
  on(signal: 'SIGTERM' | 'SIGINT', listener: (signal: NodeJS.Signals) => void): unknown;
  off(signal: 'SIGTERM' | 'SIGINT', listener: (signal: NodeJS.Signals) => void): unknown;
}

export interface ShutdownOptions {
  readonly logger: Logger;
  /** Run in order on the first signal; see `standardSteps` for the order the bridge uses. */
  readonly steps: readonly ShutdownStep[];
  /**
   * Hard limit from the first signal to exit(1). 25 s stays inside Kubernetes' default 30 s
   * termination grace period (and systemd's TimeoutStopSec should be larger), so the bridge
   * exits on its own terms, logs flushed, instead of being SIGKILLed mid-write.
   */
  readonly deadlineMs?: number;
  readonly signals?: SignalSource;
  readonly exit?: (code: number) => void;
}

export interface ShutdownHandle {
  /** Starts the sequence as a first signal would (fatal error, run finished); idempotent. */
  trigger(reason: string): Promise<void>;
  /** Resolves once every step has run (successfully or not). */
  readonly done: Promise<void>;
  isStarted(): boolean;
  /** Removes the signal handlers and the deadline. */
  dispose(): void;
}

export const DEFAULT_SHUTDOWN_DEADLINE_MS = 25_000;
const SIGNALS = ['SIGTERM', 'SIGINT'] as const;
const installed = new WeakSet<SignalSource>();

/**
 * Installs SIGTERM/SIGINT handling once per signal source. The first signal runs the steps in
 * order; a second signal exits(1) at once (an operator pressing Ctrl-C twice means it); the
 * deadline forces exit(1) if the process has not ended by then.
 *
 * A clean run does not exit by itself: `done` resolves and the caller returns from main with
 * its own code. The deadline timer does not keep the process alive, but stays armed, so a
 * leaked handle that keeps the process running past the deadline still ends in exit(1).
 *
 * NEVER deregisters anything. Shutdown stops writing and releases the lease; records this
 * bridge wrote stay where they are (DESIGN §4: restart is a no-op), because a rolling update
 * or a crash-restart that deregistered would take every exported service down with it. Only
 * `isthmus cleanup` removes what the bridge wrote.
 */
export function installShutdown(options: ShutdownOptions): ShutdownHandle {
  const signals = options.signals ?? process;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const deadlineMs = options.deadlineMs ?? DEFAULT_SHUTDOWN_DEADLINE_MS;
  const log = options.logger;
  if (installed.has(signals)) throw new Error('shutdown handlers are already installed on this signal source');
  installed.add(signals);

  let running: Promise<void> | undefined;
  let deadline: NodeJS.Timeout | undefined;
  let resolveDone: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    resolveDone = resolve;
  });

  const start = (reason: string): Promise<void> => {
    if (running !== undefined) return running;
    log.info({ reason, deadlineMs }, 'shutting down');
    deadline = setTimeout(() => {
      log.error({ deadlineMs }, 'shutdown deadline passed; forcing exit');
      exit(1);
    }, deadlineMs);
    deadline.unref();
    running = runSteps(options.steps, log).then(resolveDone);
    return running;
  };

  const onSignal = (signal: NodeJS.Signals): void => {
    if (running !== undefined) {
      log.warn({ signal }, 'second signal; exiting now');
      exit(1);
      return;
    }
    void start(signal);
  };
  for (const s of SIGNALS) signals.on(s, onSignal);

  return {
    trigger: start,
    done,
    isStarted: () => running !== undefined,
    dispose: () => {
      for (const s of SIGNALS) signals.off(s, onSignal);
      installed.delete(signals);
      if (deadline !== undefined) clearTimeout(deadline);
    },
  };
}

async function runSteps(steps: readonly ShutdownStep[], log: Logger): Promise<void> {
  for (const step of steps) {
    const started = Date.now();
    try {
      await withTimeout(Promise.resolve().then(() => step.run()), step.timeoutMs);
      log.info({ step: step.name, ms: Date.now() - started }, 'shutdown step done');
    } catch (err) {
      log.error({ err, step: step.name, ms: Date.now() - started }, 'shutdown step failed; continuing');
    }
  }
}

function withTimeout(work: Promise<void>, ms: number | undefined): Promise<void> {
  if (ms === undefined) return work;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`step did not finish within ${ms} ms`));
    }, ms);
  });
  return Promise.race([work, timeout]).finally(() => {
    clearTimeout(timer);
  });
}

export interface StandardSteps {
  /** Usually `health.markShuttingDown`. */
  readonly failReadiness: () => void;
  /** Close listeners and drain watch streams. */
  readonly stopResolver?: () => Promise<void>;
  /** Stop taking keys, finish in-flight reconciles. */
  readonly stopEngine?: () => Promise<void>;
  /** Hand the Lease over so another replica takes over without waiting for it to expire. */
  readonly releaseLease?: () => Promise<void>;
  /** Usually `() => flushLogger(root)`. */
  readonly flushLogs: () => Promise<void>;
}

/**
 * The bridge's order (DESIGN §9): stop being picked by load balancers first, then stop serving,
 * then stop writing, and only then give up the lease, so two replicas never write at once.
 * Logs are flushed last so every step's line is written.
 */
export function standardSteps(s: StandardSteps): ShutdownStep[] {
  const steps: ShutdownStep[] = [{ name: 'fail readiness', run: s.failReadiness }];
  if (s.stopResolver !== undefined) steps.push({ name: 'stop resolver', run: s.stopResolver });
  if (s.stopEngine !== undefined) steps.push({ name: 'stop engine', run: s.stopEngine });
  if (s.releaseLease !== undefined) steps.push({ name: 'release lease', run: s.releaseLease });
  steps.push({ name: 'flush logs', run: s.flushLogs });
  return steps;
}
