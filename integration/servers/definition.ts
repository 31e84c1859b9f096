// The contract every server kind implements. Kinds live in kinds/; the orchestration in index.ts
// only ever talks to this interface.
import type { ConnectionByServer, ServerName } from './connections.ts';
import type { TrackedProcess } from './processes.ts';
import type { ProgressListener } from './progress.ts';

export interface ServerContext {
  readonly onProgress: ProgressListener;
  /** This server's run dir: logs/, data/, pids.json. Fresh (emptied) before start(). */
  readonly runDir: string;
  /** Called as soon as each process is spawned, so a failing start can still be cleaned up. */
  readonly track: (proc: TrackedProcess) => Promise<void>;
}

export interface ServerStatus {
  readonly provisioned: boolean;
  /** The pinned version that provisioning builds/installs. */
  readonly version: string;
  readonly detail: string;
}

export interface ServerDefinition<N extends ServerName> {
  readonly name: N;
  /** What is run, for status output and the README. */
  readonly summary: string;
  readonly version: () => Promise<string>;
  readonly isProvisioned: () => Promise<boolean>;
  /** Idempotent: installs/builds only what is missing for the pinned version. */
  readonly provision: (onProgress: ProgressListener) => Promise<void>;
  /** Spawns the processes and returns once a real request has succeeded. */
  readonly start: (ctx: ServerContext) => Promise<void>;
  readonly connection: (runDir: string) => Promise<ConnectionByServer[N]>;
  /** One real request; false when nothing (or something else) answers. */
  readonly probe: (conn: ConnectionByServer[N]) => Promise<boolean>;
  /** One line for `status`: where to reach it. */
  readonly address: (runDir: string) => Promise<string>;
  /** Ports that must be free before start, to fail early instead of talking to a stranger. */
  readonly ports: () => readonly number[];
}
