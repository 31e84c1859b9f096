// Progress reporting. Cold builds take minutes; a tick every ~15 s with the elapsed time and the
// latest log line tells whoever watches that something is still happening.

export interface ProgressEvent {
  readonly server: string;
  readonly message: string;
}

export type ProgressListener = (event: ProgressEvent) => void;

export const TICK_MS = 15_000;

export function formatElapsed(ms: number): string {
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

/** Logs to stderr with a timestamp; the default for the CLI and global setup. */
export const consoleProgress: ProgressListener = (event) => {
  const time = new Date().toISOString().slice(11, 19);
  process.stderr.write(`[${time}] ${event.server}: ${event.message}\n`);
};

export const silentProgress: ProgressListener = () => undefined;
