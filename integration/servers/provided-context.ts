// Types of what the integration global setup hands to test files through vitest's provide/inject.
import type { ServerConnections } from './connections.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Connection info of the servers this run started or reused; absent keys were not selected. */
    isthmusServers: ServerConnections;
    /** The same data as a JSON file in the run dir, for child processes (also in ISTHMUS_SERVERS_FILE). */
    isthmusServersFile: string;
  }
}
