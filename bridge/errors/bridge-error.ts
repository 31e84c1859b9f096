import type { ErrorCode } from './codes.ts';

export interface BridgeErrorOptions extends ErrorOptions {
  /** Retrying cannot help (bad config, unconvertible record): the queue logs it and stops. */
  readonly terminal?: boolean;
  readonly details?: Readonly<Record<string, unknown>>;
}

/** The one error type Isthmus throws on purpose; `code` is stable, `message` is for people. */
export class BridgeError extends Error {
  readonly code: ErrorCode;
  readonly terminal: boolean;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, options: BridgeErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BridgeError';
    this.code = code;
    this.terminal = options.terminal ?? false;
    this.details = options.details ?? {};
  }
}

export function isTerminal(err: unknown): boolean {
  return err instanceof BridgeError && err.terminal;
}

/** A short, single-line description for status output and logs. */
export function describeError(err: unknown): string {
  if (err instanceof BridgeError) return `${err.code}: ${err.message}`;
  if (err instanceof Error) return err.message;
  return String(err);
}
