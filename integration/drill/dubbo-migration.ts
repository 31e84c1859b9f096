// The migration drill for Dubbo on ZooKeeper, with real Dubbo 3.3 peers (integration/peers/dubbo).
// The same script as migration.ts (Spring Cloud), with Dubbo's actors:
//   VM providers — register themselves in ZooKeeper (interface- and application-level);
//   pods         — the same Provider registered nowhere (`--zk=none`), published only as
//                  EndpointSlices of a Service annotated for the Dubbo sink;
//   vmToPod      — a Dubbo consumer on a "VM" (FORCE_INTERFACE), finds providers only through
//                  ZooKeeper: the pods are there because Isthmus exports them;
//   podToVm      — a registry-less Dubbo consumer in a "pod" (DirectConsumer): the ready endpoints
//                  of the Service's slices are fed to it every 250 ms as direct `dubbo://ip:port`
//                  references, so it finds the VM providers only because Isthmus imports them.
// VM providers retire with SIGTERM: Dubbo's shutdown hook unregisters them, waits
// `dubbo.service.shutdown.wait` (the drill's drain window) for calls in flight, then exits.
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { KubernetesConnection } from '../servers/connections.ts';
import { type DubboPeer, type PeerLine, startConsumer, startDirectConsumer, startProvider } from '../peers/dubbo/peers.ts';
import { BridgeProcess, bridgeConfig, cleanupBridge } from './bridge.ts';
import { DubboView } from './dubbo-view.ts';
import { Kube, sliceEndpoints } from './kube.ts';
import type { DirectionResult, FrameworkResult, StepRecord } from './migration.ts';
import { addLoopbackAddress, addressPlan, freePort, podAddress, removeLoopbackAddress, sleep, vmAddress, waitFor } from './net.ts';
import { cleanupNamespace, createNamespace, createService, publishPod, READY, STARTING, TERMINATING, type PodAddress } from './pods.ts';
import { type CallRecord, podShareSince, summarize } from './record.ts';
import { applyMigration, deleteMigration, installMigrationCrd, readMigrationStatus, type MigrationStatusView } from './service-migration.ts';
import { runSplitSteps } from './split.ts';

export const GREETER = 'dev.isthmus.peers.Greeter';

/**
 * The VM providers register an explicit `weight` (Dubbo's default value): a Dubbo 3 consumer's
 * `random` load balancing weighs at all only when the FIRST provider URL of its list has a
 * `weight` or a `timestamp` (RandomLoadBalance.needWeightLoadBalance), and its ZooKeeper registry
 * strips `timestamp` from every provider URL it reads (CacheableFailbackRegistry.VARIABLE_KEYS).
 * A VM provider URL without `weight` first in the list made the consumer ignore the split
 * (README, "Dubbo and the split"); a real migration needs the same setting on its VM providers.
 */
const VM_WEIGHT = 100;
const VISIBLE_TIMEOUT = 60_000;
const PORT = 'dubbo';

export interface DubboDrillOptions {
  readonly kubernetes: KubernetesConnection;
  /** ZooKeeper host:port. */
  readonly zookeeper: string;
  /** Java classpath of the Dubbo peers. */
  readonly classpath: string;
  readonly workDir: string;
  readonly ratePerSecond: number;
  readonly settleMs: number;
  readonly providers: number;
  readonly drainMs: number;
  readonly callsPerSplitStep: number;
  readonly log: (message: string) => void;
  readonly signal?: AbortSignal;
}

/** A consumer's call line → a call record (the reply names the instance: "hello … from vm-1"). */
export function dubboCall(line: PeerLine, arrived: number): CallRecord {
  const ms = typeof line['ms'] === 'number' ? line['ms'] : 0;
  const t = arrived - ms;
  const text = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));
  if (line['ok'] !== true) return { t, ok: false, error: text(line['error'] ?? 'unknown'), ms };
  const instance = /from (\S+)$/.exec(text(line['reply'] ?? ''))?.[1];
  const side = instance?.startsWith('pod-') === true ? 'pod' : instance?.startsWith('vm-') === true ? 'vm' : undefined;
  return { t, ok: true, instance, side, ms };
}

/** The bridge's registry entry for ZooKeeper: interface-level import, the run's group named `service`. */
export function dubboRegistry(zookeeper: string, service: string, group: string, namespace: string): Record<string, unknown> {
  return { kind: 'dubbo', connect: zookeeper, namespace, import: ['interface'], names: { [`${GREETER}::${group}`]: service }, sessionTimeoutMs: 10_000 };
}

export async function runDubboDrill(o: DubboDrillOptions): Promise<FrameworkResult> {
  const run = randomBytes(3).toString('hex');
  const namespace = `drill-dubbo-${run}`;
  const service = `greeter-${run}`;
  const group = `drill-${run}`;
  const kube = new Kube({ server: o.kubernetes.server, token: o.kubernetes.token, caFile: o.kubernetes.caFile });
  const view = new DubboView(o.zookeeper);
  const plan = addressPlan('dubbo');
  const added: string[] = [];
  const address = async (ip: string): Promise<string> => {
    if (await addLoopbackAddress(ip)) added.push(ip);
    return ip;
  };
  const peers: DubboPeer[] = [];
  const pods: PodAddress[] = [];
  const vmVisibility: Record<string, number> = {};
  const podVisibility: Record<string, number> = {};
  const vmCalls: CallRecord[] = [];
  const podCalls: CallRecord[] = [];
  const statuses: MigrationStatusView[] = [];
  const ref = { namespace, name: service };
  const ready: Record<string, number> = { dubbo: o.providers, k8s: 0 };
  let podTargets: string[] = [];
  let vmConsumer: DubboPeer | undefined;
  let podConsumer: DubboPeer | undefined;
  let feeder: NodeJS.Timeout | undefined;
  let bridge: BridgeProcess | undefined;
  let t0 = Date.now();

  const stepTimes: { step: string; started: number; tookMs: number }[] = [];
  const step = async <T>(name: string, body: () => Promise<T>): Promise<T> => {
    const started = Date.now();
    o.log(`dubbo: ${name}`);
    const value = await body();
    stepTimes.push({ step: name, started, tookMs: Date.now() - started });
    return value;
  };
  const zkHas = (ip: string, port: number) => async () => ((await view.providers(GREETER, group)).some((i) => i.address === ip && i.port === port) ? true : undefined);
  const zkLacks = (ip: string, port: number) => async () => ((await view.providers(GREETER, group)).some((i) => i.address === ip && i.port === port) ? undefined : true);
  const slicesHave = (ip: string, port: number) => async () => ((await sliceEndpoints(kube, namespace, service, PORT)).some((e) => e.ready && e.address === ip && e.port === port) ? true : undefined);
  const slicesLack = (ip: string, port: number) => async () => ((await sliceEndpoints(kube, namespace, service, PORT)).some((e) => e.address === ip && e.port === port) ? undefined : true);
  const provider = (id: string, ip: string, port: number, zk: string): Promise<DubboPeer> =>
    startProvider(o.classpath, { id, zk, port, host: ip, group, app: zk === 'none' ? `greeter-pods-${run}` : `greeter-vms-${run}`, shutdownWaitMs: o.drainMs, warmupMs: 1000, ...(zk === 'none' ? {} : { weight: VM_WEIGHT }) });

  try {
    await createNamespace(kube, namespace);
    // What a team writes for Dubbo providers moving into pods: the Service says which interface,
    // group, protocol and application the pods serve, so Isthmus registers them as Dubbo would.
    await createService(kube, namespace, service, {
      portName: PORT,
      port: 20880,
      annotations: {
        'isthmus.dev/dubbo-interfaces': GREETER,
        'isthmus.dev/dubbo-group': group,
        'isthmus.dev/dubbo-protocol': 'dubbo',
        'isthmus.dev/dubbo-application': `greeter-pods-${run}`,
        'isthmus.dev/dubbo-methods': 'greet',
      },
    });
    await installMigrationCrd(kube);
    // The object exists from the start (no split yet), so its status is there at every step.
    await applyMigration(kube, ref, {});

    const vms = await step('start VM providers', () => Promise.all(Array.from({ length: o.providers }, async (_, n) => {
      const name = `vm-${n + 1}`;
      const ip = await address(vmAddress(plan, n + 1));
      const port = await freePort(ip);
      const peer = await provider(name, ip, port, o.zookeeper);
      peers.push(peer);
      await waitFor(`${name} registered in ZooKeeper`, zkHas(ip, port), 180_000, 200, o.signal);
      return { ip, port, peer, name };
    })));

    bridge = await step('start isthmus', async () => BridgeProcess.start(bridgeConfig({
      bridgeId: `drill-${run}`,
      kubeconfig: o.kubernetes.kubeconfigPath,
      namespace,
      vmId: 'dubbo',
      vmRegistry: dubboRegistry(o.zookeeper, service, group, namespace),
      service,
      httpPort: await freePort('127.0.0.1'),
    }), o.workDir));
    await step('VM providers imported into Kubernetes', async () => {
      for (const vm of vms) podVisibility[`${vm.name} imported`] = (await waitFor(`${vm.name} in slices`, slicesHave(vm.ip, vm.port), VISIBLE_TIMEOUT, 100, o.signal)).ms;
    });

    await step('start consumers', async () => {
      vmConsumer = await startConsumer(o.classpath, { zk: o.zookeeper, mode: 'interface', rate: o.ratePerSecond, group, app: `greeter-consumer-vm-${run}`, timeoutMs: 2000, logPath: join(o.workDir, 'consumer-vm.log') });
      peers.push(vmConsumer);
      vmConsumer.onLine((l) => { if (l.event === 'call') vmCalls.push(dubboCall(l, Date.now())); });
      await waitFor('first call of the VM consumer', () => Promise.resolve(vmCalls.length > 0 ? true : undefined), 180_000, 200, o.signal);
      // The node agent's part: program the ready endpoints of the Service into the consumer.
      const readyTargets = async (): Promise<string[]> => (await sliceEndpoints(kube, namespace, service, PORT)).filter((e) => e.ready).map((e) => `${e.address}:${e.port}`).sort();
      podTargets = await readyTargets();
      const pc = await startDirectConsumer(o.classpath, { rate: o.ratePerSecond, group, app: `greeter-consumer-pod-${run}`, timeoutMs: 2000, targets: podTargets });
      podConsumer = pc;
      peers.push(pc);
      pc.onLine((l) => { if (l.event === 'call') podCalls.push(dubboCall(l, Date.now())); });
      let sent = podTargets.join(',');
      let feeding = false;
      const feed = async (): Promise<void> => {
        if (feeding) return;
        feeding = true;
        try {
          podTargets = await readyTargets();
          const list = podTargets.join(',');
          if (list !== sent) pc.send(`targets ${list}`);
          sent = list;
        } catch {
          // Keep the last endpoints while the apiserver is away.
        } finally {
          feeding = false;
        }
      };
      feeder = setInterval(() => { void feed(); }, 250);
      await waitFor('first call of the pod consumer', () => Promise.resolve(podCalls.length > 0 ? true : undefined), 60_000, 100, o.signal);
    });
    t0 = Date.now();
    await sleep(o.settleMs, o.signal);

    for (let n = 1; n <= o.providers; n++) {
      await step(`add pod-${n}`, async () => {
        const ip = await address(podAddress(plan, n));
        const addr: PodAddress = { name: `pod-${n}`, ip, port: await freePort(ip), portName: PORT };
        await publishPod(kube, namespace, service, addr, STARTING);
        pods.push(addr);
        peers.push(await provider(addr.name, ip, addr.port, 'none'));
        await publishPod(kube, namespace, service, addr, READY);
        const both = await Promise.all([
          waitFor(`pod-${n} visible in ZooKeeper`, zkHas(ip, addr.port), VISIBLE_TIMEOUT, 50, o.signal),
          waitFor(`pod-${n} called by the pod consumer`, () => Promise.resolve(podTargets.includes(`${ip}:${addr.port}`) ? true : undefined), VISIBLE_TIMEOUT, 50, o.signal),
        ]);
        vmVisibility[`pod-${n} ready → visible in ZooKeeper`] = both[0].ms;
        podVisibility[`pod-${n} ready → in the pod consumer's endpoints`] = both[1].ms;
        ready['k8s'] = n;
        statuses.push(await readMigrationStatus(kube, ref, `add pod-${n}`, ready));
      });
      await sleep(o.settleMs, o.signal);
    }

    // Dubbo's default load balancing (random) is weighted by the provider URL's `weight`. Its
    // ZooKeeper registry batches notifications after the first 10 (RegistryNotifier,
    // `delay-notification`, default 5 s), and a weight change is two events (new URL, old URL
    // gone): the consumer follows a split 5–8 s after ZooKeeper shows it (measured), hence 10 s.
    const splits = await runSplitSteps({
      kube, bridge, ref, vmId: 'dubbo', ready, log: o.log, callsPerStep: o.callsPerSplitStep, followTimeoutMs: 30_000,
      visible: () => view.providers(GREETER, group),
      vmCalls: () => vmCalls,
      podCalls: () => podCalls,
      ...(o.signal === undefined ? {} : { signal: o.signal }),
    }, step);
    for (const s of splits) statuses.push(s.status);

    let lastVmExit = Date.now();
    for (const vm of vms) {
      await step(`retire ${vm.name}`, async () => {
        const stopping = vm.peer.terminate(o.drainMs + 30_000);
        const [gone, unimported, stopped] = await Promise.all([
          waitFor(`${vm.name} gone from ZooKeeper`, zkLacks(vm.ip, vm.port), VISIBLE_TIMEOUT, 50, o.signal),
          waitFor(`${vm.name} gone from slices`, slicesLack(vm.ip, vm.port), VISIBLE_TIMEOUT, 50, o.signal),
          stopping,
        ]);
        if (stopped.killed) throw new Error(`${vm.name} did not stop within its grace period`);
        vmVisibility[`${vm.name} SIGTERM → gone from ZooKeeper`] = gone.ms;
        podVisibility[`${vm.name} SIGTERM → gone from slices`] = unimported.ms;
        vmVisibility[`${vm.name} SIGTERM → exited`] = stopped.ms;
        lastVmExit = Date.now();
        ready['dubbo'] = (ready['dubbo'] ?? 1) - 1;
        statuses.push(await readMigrationStatus(kube, ref, `retire ${vm.name}`, ready));
      });
      await sleep(o.settleMs, o.signal);
    }
    await sleep(Math.max(o.settleMs, 3000), o.signal);

    await step('stop consumers', async () => {
      if (feeder !== undefined) clearInterval(feeder);
      await Promise.all([vmConsumer?.stop(), podConsumer?.stop()]);
    });
    const end = Date.now();
    await writeFile(join(o.workDir, 'calls-vmToPod.jsonl'), vmCalls.map((c) => JSON.stringify(c)).join('\n') + '\n');
    await writeFile(join(o.workDir, 'calls-podToVm.jsonl'), podCalls.map((c) => JSON.stringify(c)).join('\n') + '\n');
    const direction = (consumer: string, calls: CallRecord[], visibility: Record<string, number>): DirectionResult => ({
      consumer,
      ...summarize(calls, t0, end),
      podShareAfterLastVmRetired: podShareSince(calls, lastVmExit),
      stepVisibilityMs: visibility,
    });
    return {
      vmToPod: direction('Dubbo 3.3 consumer (VM, FORCE_INTERFACE), providers found through ZooKeeper', vmCalls, vmVisibility),
      podToVm: direction('registry-less Dubbo 3.3 consumer (pod), direct references to the ready endpoints of the Service\'s EndpointSlices', podCalls, podVisibility),
      steps: stepTimes.map((st): StepRecord => ({ step: st.step, atMs: st.started - t0, tookMs: st.tookMs })),
      split: {
        balancer: `Dubbo default \`random\` load balancing, weighted by the provider URL \`weight\` (VM providers register weight=${VM_WEIGHT} explicitly, warmup 1 s)`,
        asserted: true,
        steps: splits,
      },
      migrationStatus: statuses,
      durationMs: end - t0,
    };
  } catch (error) {
    // Before the cleanup stops the bridge: what it saw and wrote for the service (bridge-status.json).
    await bridge?.saveStatus(o.workDir, ref);
    throw error;
  } finally {
    if (feeder !== undefined) clearInterval(feeder);
    for (const pod of pods) await publishPod(kube, namespace, service, pod, TERMINATING).catch(() => undefined);
    await Promise.all(peers.map((p) => p.stop()));
    if (bridge !== undefined) {
      await bridge.stop();
      await cleanupBridge(bridge.configPath);
    }
    await view.removeRunLeftovers(GREETER, group, `greeter-vms-${run}`).catch(() => undefined);
    view.close();
    await deleteMigration(kube, ref);
    await cleanupNamespace(kube, namespace).catch(() => undefined);
    for (const ip of added) await removeLoopbackAddress(ip);
  }
}
