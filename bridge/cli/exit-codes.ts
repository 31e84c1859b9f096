/** Exit codes of every command; scripts rely on them, so they never change meaning. */
export const EXIT = {
  ok: 0,
  /** Something failed at run time: unreachable resolver, service not found, registry error. */
  error: 1,
  /** The command line or the config file is wrong; nothing was attempted. */
  usage: 2,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
