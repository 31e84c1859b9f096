import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

// Files that run alone, after everything else: they stop a shared server, or their subject is a
// timeout of a few seconds that CPU starvation from three files beside them can run out (the
// ZooKeeper restart test's 4 s sessions did once, with three drills starting their JVMs).
const SERIAL = ['integration/adapters/kubernetes.outage.test.ts', 'integration/adapters/dubbo.zk-restart.test.ts'];
// The longest files start first, so the other workers spend that time on the rest (issue 17:
// the four drills are about a third of the suite's time; on a fresh clone vitest has no timings).
const FIRST = ['consul', 'nacos', 'dubbo', 'eureka'].map((f) => `integration/drill/drill.${f}.test.ts`);

class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (f: TestSpecification): number => {
      const i = FIRST.findIndex((p) => f.moduleId.endsWith(p));
      return i === -1 ? FIRST.length : i;
    };
    return [...sorted].sort((a, b) => rank(a) - rank(b));
  }
}

const integration = {
  globalSetup: ['integration/global-setup.ts'],
  environment: 'node' as const,
  testTimeout: 120_000,
  hookTimeout: 1_800_000,
};

// Three projects: `unit` (beside the code, in-memory adapters), `integration` (real servers
// started once by the global setup; files run three at a time in one pool with the unit files:
// most of their time is spent waiting on servers, and each file works in its own namespaces,
// names and groups), and `integration-serial` (see SERIAL: one at a time, last).
export default defineConfig({
  test: {
    // CI also writes a JSON report so .ci/run can print a plain "N passed, N failed" line.
    reporters: process.env['CI'] === 'true' ? ['default', 'json'] : ['default'],
    outputFile: { json: '.vitest-results.json' },
    sequence: { sequencer: LongestFirst },
    projects: [
      {
        test: {
          name: 'unit',
          include: ['bridge/**/*.test.ts', 'adapters/**/*.test.ts', 'sdk/**/*.test.ts', 'bench/**/*.test.ts'],
          environment: 'node',
          // One pool with the integration project (vitest requires the same size for that).
          maxWorkers: 3,
          // Unit files share a worker's module cache instead of each loading the code again:
          // 110 → 62 CPU-s and 60 → 35 s alone on two cores (issue 17). They keep no state in
          // modules, and each file that fakes timers restores them; five runs in shuffled file
          // order passed.
          isolate: false,
        },
      },
      {
        test: { name: 'integration', include: ['integration/**/*.test.ts'], exclude: SERIAL, maxWorkers: 3, ...integration },
      },
      {
        test: { name: 'integration-serial', include: SERIAL, fileParallelism: false, ...integration },
      },
    ],
  },
});
