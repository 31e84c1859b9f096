// The reduced migration drill for one framework against the real kube-apiserver and the real VM
// registry, with real Spring Cloud peers (Dubbo 3.3 peers for dubbo): fails if a single call fails
// in either direction, or if the pods do not serve all traffic once the last VM provider has
// retired, or if a declared split (90/10, 50/50, 10/90) does not move the weight-aware VM
// consumer's traffic. One test file per framework (drill.<framework>.test.ts), so two frameworks'
// drills can run at once (issue 17): each works in its own namespace, service name, address block
// and registry.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type {} from '../servers/provided-context.ts';
import { holdSlot } from '../servers/slot-lock.ts';
import { type FrameworkName, REDUCED, runDrill, SHARE_TOLERANCE, VM_SERVER } from './run.ts';

const LABELS: Record<FrameworkName, string> = {
  consul: 'Spring Cloud Consul',
  nacos: 'Spring Cloud Alibaba Nacos',
  dubbo: 'Dubbo 3.3 on ZooKeeper',
  eureka: 'Spring Cloud Netflix Eureka',
};

export function drillCase(framework: FrameworkName): void {
  const servers = inject('isthmusServers');
  const log = (m: string): void => { process.stderr.write(`[drill ${new Date().toISOString().slice(11, 19)}] ${m}\n`); };
  const present = servers[VM_SERVER[framework]] !== undefined;
  describe(`migration drill: ${LABELS[framework]}`, () => {
    // Two drills at a time: each starts eight JVMs, and with three starting together on two
    // cores a freshly ready Dubbo pod once timed out its first call (a load failure, not a
    // discovery one, but the drill counts every failed call).
    let release: (() => Promise<void>) | undefined;
    beforeAll(async () => { release = await holdSlot('migration-drill', 2); }, 960_000);
    afterAll(async () => { await release?.(); });
    it.skipIf(servers.kubernetes === undefined || !present)('moves a service from VMs to pods with zero failed calls in both directions', async () => {
      const report = await runDrill([framework], servers, REDUCED, log);
      const result = report.frameworks[framework];
      if (result === undefined || !result.available || 'error' in result) throw new Error(`${framework} drill did not run: ${JSON.stringify(result)} (logs in ${report.workDir})`);
      for (const dir of ['vmToPod', 'podToVm'] as const) {
        const d = result[dir];
        console.log(JSON.stringify({ figure: `drill-${framework}-${dir}`, calls: d.calls, failures: d.failures, callsPerSecond: d.callsPerSecond, podShareAfterLastVmRetired: d.podShareAfterLastVmRetired, stepVisibilityMs: d.stepVisibilityMs }));
        expect(d.failures, `${dir} failure windows: ${JSON.stringify(d.failureWindows)} (logs in ${report.workDir})`).toBe(0);
        // At 25-100 calls/s over a run of well over a minute; a stalled consumer must not pass.
        expect(d.calls).toBeGreaterThan(20 * 30);
        expect(d.podShareAfterLastVmRetired.calls).toBeGreaterThan(0);
        expect(d.podShareAfterLastVmRetired.pod).toBe(100);
        // Both sides served calls at some point: the VM providers first, the pods last.
        expect(Object.keys(d.servedBy).some((i) => i.startsWith('vm-'))).toBe(true);
        expect(Object.keys(d.servedBy).some((i) => i.startsWith('pod-'))).toBe(true);
      }
      // Each declared split moves the weight-aware VM consumer's traffic: within ±5 points of the
      // declared pod share over ≥1,000 calls, with no failed call while the weights change.
      expect(result.split.steps.map((st) => st.declaredPodShare)).toEqual([10, 50, 90]);
      expect(result.split.asserted).toBe(true);
      for (const st of result.split.steps) {
        console.log(JSON.stringify({ figure: `drill-${framework}-split`, declared: st.declared, via: st.via, visibleMs: st.visibleMs, followedMs: st.followedMs, observed: st.vmToPod, podToVm: st.podToVm }));
        expect(st.vmToPod.calls).toBeGreaterThanOrEqual(1000);
        expect(st.vmToPod.failures + st.podToVm.failures).toBe(0);
        expect(Math.abs(st.vmToPod.podShare - st.declaredPodShare), `split ${JSON.stringify(st.declared)}: observed pod share ${st.vmToPod.podShare} %`).toBeLessThanOrEqual(SHARE_TOLERANCE);
      }
      // The ServiceMigration's status follows the topology: after each pod added and each VM
      // retired, its per-origin ready counts equal what is running (read from the subresource).
      const topology = result.migrationStatus.filter((st) => st.step.startsWith('add ') || st.step.startsWith('retire '));
      console.log(JSON.stringify({ figure: `drill-${framework}-status`, steps: topology.map((st) => ({ step: st.step, ready: st.ready, waitedMs: st.waitedMs, matches: st.matchesExpected })) }));
      expect(topology.map((st) => st.step)).toEqual(['add pod-1', 'add pod-2', 'add pod-3', 'retire vm-1', 'retire vm-2', 'retire vm-3']);
      for (const st of topology) expect(st.matchesExpected, `status at ${st.step}: ${JSON.stringify(st)}`).toBe(true);
      expect(report.ok).toBe(true);
    }, 1_200_000);
  });
}
