// Issue 15, finding 8: 1,000 gRPC Watch streams whose clients stop reading, on a service state of
// ~750 KB, grew the resolver from ~100 MB to ~920 MB RSS (beyond the chart's 512 Mi limit). The
// measurement runs the resolver in its own process on loopback (no registry server) and prints
// its JSON line; the bound asserted is half the chart's limit for the growth.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const SCRIPT = fileURLToPath(new URL('../../bridge/resolver/testing/stalled-watch-memory.ts', import.meta.url));

interface Measurement {
  readonly stateKb: number;
  readonly baselineRssMb: number;
  readonly peakRssMb: number;
  readonly growthMb: number;
  readonly maxOpenWatches: number;
  readonly slowConsumersDropped: number;
}

describe('resolver memory under stalled gRPC watches', () => {
  it('stays well within the chart limit with 1,000 streams that stopped reading', { timeout: 90_000 }, async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', SCRIPT, '--streams', '1000', '--settle-ms', '12000'], { timeout: 80_000 });
    const line = stdout.trim().split('\n').at(-1) ?? '';
    process.stdout.write(`${line}\n`);
    const m = JSON.parse(line) as Measurement;
    expect(m.stateKb).toBeGreaterThan(500);
    expect(m.maxOpenWatches).toBe(1_000);
    // The stalled streams are shed as slow consumers instead of each holding a state.
    expect(m.slowConsumersDropped).toBeGreaterThan(0);
    expect(m.growthMb).toBeLessThan(256);
  });
});
