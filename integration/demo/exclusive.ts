// The demo's topology has fixed names (its namespace, `orders`, `payments`…) on the shared
// servers, and three files put it there: demo.test.ts, console.test.ts and
// process/npm-demo-ctrl-c.test.ts, the last one comparing every registry before and after. Each
// of them holds the one slot for its whole length.
import { holdSlot } from '../servers/slot-lock.ts';

/** Waits for the demo topology to be free, takes it, and answers the release. */
export function holdDemoTopology(timeoutMs = 600_000): Promise<() => Promise<void>> {
  return holdSlot('demo-topology', 1, timeoutMs);
}
