// The Spring Cloud migration drill, for one VM registry (Consul or Nacos, see sides.ts). One
// service moves from three VM providers (registered by the framework) to three pods (published
// only as EndpointSlices) while two consumers call it the whole time:
//   vmToPod — a Spring Cloud consumer on a "VM": it finds the pods only because Isthmus exports
//             them into the VM registry;
//   podToVm — a consumer in a "pod" that knows only EndpointSlices: it finds the VM providers
//             only because Isthmus imports them from the VM registry into the same Service.
// Steps: 3 VM providers → bridge → consumers → pods added one by one → splits 90/10, 50/50, 10/90
// declared on the service's ServiceMigration, each measured (split.ts) → VM providers retired one
// by one (SIGTERM; they deregister, drain, then exit) → pods alone.
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { KubernetesConnection } from '../servers/connections.ts';
import { PeerJvm } from '../peers/spring/jvm.ts';
import { BridgeProcess, bridgeConfig, cleanupBridge } from './bridge.ts';
import { Kube, sliceEndpoints } from './kube.ts';
import { addLoopbackAddress, addressPlan, freePort, getJson, podAddress, removeLoopbackAddress, sleep, StopWaiting, vmAddress, waitFor } from './net.ts';
import { PodConsumer } from './pod-consumer.ts';
import { cleanupNamespace, createNamespace, createService, publishPod, READY, STARTING, TERMINATING, type PodAddress } from './pods.ts';
import { type CallRecord, parseCallLine, podShareSince, summarize, type CallSummary } from './record.ts';
import { applyMigration, deleteMigration, installMigrationCrd, readMigrationStatus, type MigrationStatusView } from './service-migration.ts';
import type { VmSide } from './sides.ts';
import { runSplitSteps, type SplitStepResult } from './split.ts';

export interface DrillOptions {
  readonly kubernetes: KubernetesConnection;
  readonly side: VmSide;
  readonly jar: string;
  readonly workDir: string;
  readonly ratePerSecond: number;
  /** Pause after each step with traffic running, so every step is seen under load. */
  readonly settleMs: number;
  readonly providers: number;
  /** How long a retiring provider keeps serving after deregistering. */
  readonly drainMs: number;
  /** Calls of the VM consumer counted per split step. */
  readonly callsPerSplitStep: number;
  readonly log: (message: string) => void;
  /** Aborting stops the drill at the next wait; the cleanup still runs. */
  readonly signal?: AbortSignal;
}

export interface StepRecord {
  readonly step: string;
  /** Offset from the start of traffic, ms. */
  readonly atMs: number;
  readonly tookMs: number;
}

export interface DirectionResult extends CallSummary {
  readonly consumer: string;
  /** Share of the successful calls served by pods after the last VM provider exited. */
  readonly podShareAfterLastVmRetired: { calls: number; pod: number };
  /** Action → visible to this direction's consumer side, ms. */
  readonly stepVisibilityMs: Readonly<Record<string, number>>;
}

export interface FrameworkResult {
  readonly vmToPod: DirectionResult;
  readonly podToVm: DirectionResult;
  readonly steps: readonly StepRecord[];
  readonly split: {
    readonly balancer: string;
    /** Whether the drill holds the VM consumer to the declared split (±SHARE_TOLERANCE). */
    readonly asserted: boolean;
    readonly note?: string;
    readonly steps: readonly SplitStepResult[];
  };
  /** The ServiceMigration's status.origins after each topology step. */
  readonly migrationStatus: readonly MigrationStatusView[];
  readonly durationMs: number;
}

const VISIBLE_TIMEOUT = 60_000;

async function healthy(ip: string, port: number): Promise<true | undefined> {
  const { status } = await getJson(`http://${ip}:${port}/actuator/health`, 2000);
  return status === 200 ? true : undefined;
}

/** Fails a wait at once when the JVM it waits for has died (its log says why). */
function alive<T>(jvm: PeerJvm, check: () => Promise<T | undefined>): () => Promise<T | undefined> {
  return async () => {
    if (!jvm.running) throw new StopWaiting(`${jvm.spec.role} JVM exited early; see ${jvm.spec.logPath}`);
    return check();
  };
}

export async function runMigrationDrill(o: DrillOptions): Promise<FrameworkResult> {
  const fw = o.side.framework;
  const run = randomBytes(3).toString('hex');
  const namespace = `drill-${fw}-${run}`;
  const service = `greeter-${run}`;
  const kube = new Kube({ server: o.kubernetes.server, token: o.kubernetes.token, caFile: o.kubernetes.caFile });
  const plan = addressPlan(fw);
  const added: string[] = [];
  const address = async (ip: string): Promise<string> => {
    if (await addLoopbackAddress(ip)) added.push(ip);
    return ip;
  };
  const jvms: PeerJvm[] = [];
  const pods: { addr: PodAddress; jvm: PeerJvm }[] = [];
  const vmVisibility: Record<string, number> = {};
  const podVisibility: Record<string, number> = {};
  const vmCalls: CallRecord[] = [];
  const statuses: MigrationStatusView[] = [];
  const ref = { namespace, name: service };
  const ready: Record<string, number> = { [fw]: o.providers, k8s: 0 };
  const stopFile = join(o.workDir, 'consumer.stop');
  let bridge: BridgeProcess | undefined;
  let podConsumer: PodConsumer | undefined;
  let t0 = Date.now();

  // Absolute start times; made relative to the start of traffic at the end (setup steps < 0).
  const stepTimes: { step: string; started: number; tookMs: number }[] = [];
  const step = async <T>(name: string, body: () => Promise<T>): Promise<T> => {
    const started = Date.now();
    o.log(`${fw}: ${name}`);
    const value = await body();
    stepTimes.push({ step: name, started, tookMs: Date.now() - started });
    return value;
  };
  const vmHas = (ip: string, port: number) => async () => ((await o.side.visible(service)).some((i) => i.address === ip && i.port === port) ? true : undefined);
  const vmLacks = (ip: string, port: number) => async () => ((await o.side.visible(service)).some((i) => i.address === ip && i.port === port) ? undefined : true);
  const slicesHave = (ip: string, port: number) => async () => ((await sliceEndpoints(kube, namespace, service)).some((e) => e.ready && e.address === ip && e.port === port) ? true : undefined);
  const slicesLack = (ip: string, port: number) => async () => ((await sliceEndpoints(kube, namespace, service)).some((e) => e.address === ip && e.port === port) ? undefined : true);

  try {
    await createNamespace(kube, namespace);
    await createService(kube, namespace, service);
    await installMigrationCrd(kube);
    // The object exists from the start (no split yet), so its status is there at every step.
    await applyMigration(kube, ref, {});

    // VM providers, in parallel: each registers itself the way its framework does.
    const vms = await step('start VM providers', () => Promise.all(Array.from({ length: o.providers }, async (_, n) => {
      const ip = await address(vmAddress(plan, n + 1));
      const port = await freePort(ip);
      const jvm = await PeerJvm.start({
        jar: o.jar,
        role: 'provider',
        discovery: fw,
        logPath: join(o.workDir, `vm-${n + 1}.log`),
        properties: {
          'server.address': ip,
          'server.port': port,
          'peer.service': service,
          'peer.instance': `vm-${n + 1}`,
          'peer.side': 'vm',
          'peer.drain-ms': o.drainMs,
          ...o.side.providerProperties(ip),
        },
      });
      jvms.push(jvm);
      await waitFor(`vm-${n + 1} visible in ${o.side.label}`, alive(jvm, vmHas(ip, port)), 180_000, 200, o.signal);
      return { ip, port, jvm, name: `vm-${n + 1}` };
    })));

    const bridgeDir = o.workDir;
    bridge = await step('start isthmus', async () => BridgeProcess.start(bridgeConfig({
      bridgeId: `drill-${run}`,
      kubeconfig: o.kubernetes.kubeconfigPath,
      namespace,
      vmId: fw,
      vmRegistry: o.side.registry(service, namespace),
      service,
      httpPort: await freePort('127.0.0.1'),
    }), bridgeDir));
    await step('VM providers imported into Kubernetes', async () => {
      for (const vm of vms) podVisibility[`${vm.name} imported`] = (await waitFor(`${vm.name} in slices`, slicesHave(vm.ip, vm.port), VISIBLE_TIMEOUT, 100, o.signal)).ms;
    });

    // Consumers. Traffic time starts when both are calling.
    const consumer = await step('start consumers', async () => {
      const jvm = await PeerJvm.start({
        jar: o.jar,
        role: 'consumer',
        discovery: fw,
        logPath: join(o.workDir, 'consumer.log'),
        properties: { 'peer.service': service, 'peer.rate': o.ratePerSecond, 'peer.stop-file': stopFile, ...o.side.consumerProperties() },
      });
      jvms.push(jvm);
      jvm.onCall((line) => vmCalls.push(parseCallLine(line)));
      await waitFor('first call of the Spring consumer', alive(jvm, () => Promise.resolve(vmCalls.length > 0 ? true : undefined)), 180_000, 200, o.signal);
      podConsumer = new PodConsumer({ kube, namespace, service, ratePerSecond: o.ratePerSecond, refreshMs: 250, timeoutMs: 2000 });
      await podConsumer.start();
      return jvm;
    });
    t0 = Date.now();
    await sleep(o.settleMs, o.signal);

    // Pods join one by one: not ready while starting, ready once healthy (as the kubelet reports).
    for (let n = 1; n <= o.providers; n++) {
      await step(`add pod-${n}`, async () => {
        const ip = await address(podAddress(plan, n));
        const addr: PodAddress = { name: `pod-${n}`, ip, port: await freePort(ip) };
        await publishPod(kube, namespace, service, addr, STARTING);
        const jvm = await PeerJvm.start({
          jar: o.jar,
          role: 'provider',
          discovery: 'pod',
          logPath: join(o.workDir, `pod-${n}.log`),
          properties: { 'server.address': ip, 'server.port': addr.port, 'peer.service': service, 'peer.instance': `pod-${n}` },
        });
        jvms.push(jvm);
        pods.push({ addr, jvm });
        await waitFor(`pod-${n} healthy`, alive(jvm, () => healthy(ip, addr.port)), 180_000, 200, o.signal);
        await publishPod(kube, namespace, service, addr, READY);
        const both = await Promise.all([
          waitFor(`pod-${n} visible in ${o.side.label}`, vmHas(ip, addr.port), VISIBLE_TIMEOUT, 50, o.signal),
          waitFor(`pod-${n} called by the pod consumer`, () => Promise.resolve(podConsumer?.targets.some((t) => t.address === ip) === true ? true : undefined), VISIBLE_TIMEOUT, 50, o.signal),
        ]);
        vmVisibility[`pod-${n} ready → visible in ${o.side.label}`] = both[0].ms;
        podVisibility[`pod-${n} ready → in the pod consumer's endpoints`] = both[1].ms;
        ready['k8s'] = n;
        statuses.push(await readMigrationStatus(kube, ref, `add pod-${n}`, ready));
      });
      await sleep(o.settleMs, o.signal);
    }

    const splits = await runSplitSteps({
      kube, bridge, ref, vmId: fw, ready, log: o.log, callsPerStep: o.callsPerSplitStep, followTimeoutMs: 30_000,
      visible: () => o.side.visible(service),
      vmCalls: () => vmCalls,
      podCalls: () => podConsumer?.records ?? [],
      ...(o.signal === undefined ? {} : { signal: o.signal }),
    }, step);
    for (const s of splits) statuses.push(s.status);

    // VM providers retire one by one with SIGTERM: Spring Boot shuts down as in production.
    let lastVmExit = Date.now();
    for (const vm of vms) {
      await step(`retire ${vm.name}`, async () => {
        const stopping = vm.jvm.stop(o.drainMs + 30_000);
        const [gone, unimported, stopped] = await Promise.all([
          waitFor(`${vm.name} gone from ${o.side.label}`, vmLacks(vm.ip, vm.port), VISIBLE_TIMEOUT, 50, o.signal),
          waitFor(`${vm.name} gone from slices`, slicesLack(vm.ip, vm.port), VISIBLE_TIMEOUT, 50, o.signal),
          stopping,
        ]);
        if (stopped.killed) throw new Error(`${vm.name} did not stop within its grace period`);
        vmVisibility[`${vm.name} SIGTERM → gone from ${o.side.label}`] = gone.ms;
        podVisibility[`${vm.name} SIGTERM → gone from slices`] = unimported.ms;
        vmVisibility[`${vm.name} SIGTERM → exited`] = stopped.ms;
        lastVmExit = Date.now();
        ready[fw] = (ready[fw] ?? 1) - 1;
        statuses.push(await readMigrationStatus(kube, ref, `retire ${vm.name}`, ready));
      });
      await sleep(o.settleMs, o.signal);
    }
    await sleep(Math.max(o.settleMs, 3000), o.signal);

    // Calls stop before any consumer does: every call counted was made while the topology
    // changed, none while a consumer was shutting down (see CallLoop's peer.stop-file).
    let end = Date.now();
    await step('stop consumers', async () => {
      const [made] = await Promise.all([consumer.stopCalls(stopFile), podConsumer?.stop()]);
      end = Date.now();
      if (made === undefined) o.log(`${fw}: the Spring consumer did not confirm that its calls stopped; stopping it anyway`);
      await consumer.stop(10_000);
    });
    const podCalls = podConsumer?.records ?? [];
    // Every call's outcome, for audit beyond the summary: one JSON object per line.
    await writeFile(join(o.workDir, 'calls-vmToPod.jsonl'), vmCalls.map((c) => JSON.stringify(c)).join('\n') + '\n');
    await writeFile(join(o.workDir, 'calls-podToVm.jsonl'), podCalls.map((c) => JSON.stringify(c)).join('\n') + '\n');
    return {
      vmToPod: {
        consumer: `Spring Cloud ${o.side.label} + LoadBalancer (VM), providers found through ${o.side.label}`,
        ...summarize(vmCalls, t0, end),
        podShareAfterLastVmRetired: podShareSince(vmCalls, lastVmExit),
        stepVisibilityMs: vmVisibility,
      },
      podToVm: {
        consumer: 'EndpointSlice consumer (pod), providers found through Kubernetes only',
        ...summarize(podCalls, t0, end),
        podShareAfterLastVmRetired: podShareSince(podCalls, lastVmExit),
        stepVisibilityMs: podVisibility,
      },
      steps: stepTimes.map((st): StepRecord => ({ step: st.step, atMs: st.started - t0, tookMs: st.tookMs })),
      split: { balancer: o.side.balancer, asserted: true, steps: splits },
      migrationStatus: statuses,
      durationMs: end - t0,
    };
  } catch (error) {
    // Before the cleanup stops the bridge: what it saw and wrote for the service (bridge-status.json).
    await bridge?.saveStatus(o.workDir, ref);
    throw error;
  } finally {
    await podConsumer?.stop();
    for (const pod of pods) await publishPod(kube, namespace, service, pod.addr, TERMINATING).catch(() => undefined);
    await Promise.all(jvms.map((j) => j.stop(15_000)));
    if (bridge !== undefined) {
      await bridge.stop();
      await cleanupBridge(bridge.configPath);
      await o.side.afterCleanup(`drill-${run}`);
    }
    await deleteMigration(kube, ref);
    await cleanupNamespace(kube, namespace).catch(() => undefined);
    for (const ip of added) await removeLoopbackAddress(ip);
  }
}
