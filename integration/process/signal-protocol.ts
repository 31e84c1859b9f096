// What launch.ts and echo-signals.ts share: the signals the launcher passes on and the one
// message the child sends back.

export const LAUNCHED_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
export type LaunchedSignal = (typeof LAUNCHED_SIGNALS)[number];

/** Set by the launcher for its direct child only; the child removes it from its environment. */
export const ECHO_ENV = 'ISTHMUS_SIGNAL_ECHO';

export interface EchoMessage {
  readonly isthmusSignal: LaunchedSignal;
}

export function isEchoMessage(value: unknown): value is EchoMessage {
  if (typeof value !== 'object' || value === null) return false;
  const signal = (value as { isthmusSignal?: unknown }).isthmusSignal;
  return LAUNCHED_SIGNALS.some((s) => s === signal);
}
