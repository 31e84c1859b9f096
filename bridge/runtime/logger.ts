import { pino } from 'pino';
import type { DestinationStream, Logger as PinoLogger } from 'pino';
import type { LogLevel } from './config/index.ts';

/** The logger type every component takes; a pino logger, so `log.error({ err }, 'msg')` works. */
export type Logger = PinoLogger;

/** Bindings a component's child logger carries, so one grep finds everything about a registry or route. */
export interface LogBindings {
  readonly component: string;
  readonly registry?: string;
  readonly route?: string;
  readonly [key: string]: unknown;
}

export interface LoggerOptions {
  readonly level?: LogLevel;
  /** Where JSON lines go; stdout when absent. Tests pass an in-memory stream. */
  readonly destination?: DestinationStream;
  /** Bound on the root, e.g. `{ bridge: config.bridge.id }`. */
  readonly bindings?: Readonly<Record<string, unknown>>;
}

// Secrets reach logs through option objects, HTTP headers and error details. Paths are matched
// at the top and up to three levels down: pino's redaction is path-based (fast, no deep walk),
// so depth is bounded and anything nested deeper than this must not carry secrets.
const SECRET_KEYS = [
  'password',
  'passwd',
  'token',
  'accessToken',
  'refreshToken',
  'secret',
  'secretKey',
  'apiKey',
  'authorization',
  'Authorization',
  'cookie',
  'x-consul-token',
  'X-Consul-Token',
  'proxy-authorization',
];

function pathsFor(key: string): string[] {
  const plain = /^[A-Za-z_$][\w$]*$/.test(key);
  const top = plain ? key : `["${key}"]`;
  const nested = plain ? `.${key}` : top;
  return [top, `*${nested}`, `*.*${nested}`, `*.*.*${nested}`];
}

export const REDACT_PATHS: readonly string[] = SECRET_KEYS.flatMap(pathsFor);

export const REDACTED = '[redacted]';

/** The one root logger of the process: JSON lines, ISO timestamps, level names, secrets redacted. */
export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      redact: { paths: [...REDACT_PATHS], censor: REDACTED },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      base: { pid: process.pid, ...options.bindings },
    },
    options.destination ?? pino.destination({ dest: 1, sync: false }),
  );
}

/** A component's logger: `childLogger(root, { component: 'sink', registry: 'consul' })`. */
export function childLogger(parent: Logger, bindings: LogBindings): Logger {
  return parent.child(bindings);
}

/** Writes out buffered lines; the last shutdown step, so nothing logged on the way out is lost. */
export function flushLogger(logger: Logger): Promise<void> {
  return new Promise((resolve) => {
    logger.flush(() => {
      resolve();
    });
  });
}
