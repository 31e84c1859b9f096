// Runs the drill for the selected frameworks and assembles the report. A framework whose peers
// or adapter are not built yet is reported as unavailable; selecting it explicitly fails the run.
import { mkdir, mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import type { ServerConnections } from '../servers/connections.ts';
import { ensureSpringPeersJar, peersCacheDir } from '../peers/spring/build.ts';
import { buildDubboPeers } from '../peers/dubbo/peers.ts';
import { runDubboDrill } from './dubbo-migration.ts';
import { type FrameworkResult, runMigrationDrill } from './migration.ts';
import { consulSide, eurekaSide, nacosSide, type VmSide } from './sides.ts';

export const FRAMEWORKS = ['consul', 'nacos', 'dubbo', 'eureka'] as const;
export type FrameworkName = (typeof FRAMEWORKS)[number];

export interface DrillSettings {
  readonly ratePerSecond: number;
  readonly settleMs: number;
  readonly providers: number;
  readonly drainMs: number;
  /** Calls of the weight-aware VM consumer counted per split step (90/10, 50/50, 10/90). */
  readonly callsPerSplitStep: number;
}

/** The full drill of issue 10, and the reduced one CI and the vitest test run. */
export const FULL: DrillSettings = { ratePerSecond: 25, settleMs: 8000, providers: 3, drainMs: 5000, callsPerSplitStep: 1000 };
/**
 * Shorter pauses, and calls four times as fast: a split step still counts 1,000 calls (or its
 * share says little), now in 10 s instead of 40, and a failure window is four times likelier to
 * be hit. The split steps were half the suite's time (issue 17).
 */
export const REDUCED: DrillSettings = { ...FULL, ratePerSecond: 100, settleMs: 2500 };

/** How far the observed share of a weight-aware consumer may be from the declared one, points. */
export const SHARE_TOLERANCE = 5;

export interface Unavailable {
  readonly available: false;
  readonly reason: string;
}

export interface Failed {
  readonly available: true;
  readonly error: string;
}

export type FrameworkReport = (FrameworkResult & { readonly available: true }) | Unavailable | Failed;

export interface DrillReport {
  readonly ok: boolean;
  readonly settings: DrillSettings;
  readonly frameworks: Partial<Record<FrameworkName, FrameworkReport>>;
  readonly build: { readonly jar: string; readonly built: boolean; readonly ms: number };
  readonly workDir: string;
}

const UNAVAILABLE: Partial<Record<FrameworkName, string>> = {};

/** The servers each framework's drill needs besides kubernetes. */
export const VM_SERVER: Record<FrameworkName, 'consul' | 'nacos' | 'zookeeper' | 'eureka'> = { consul: 'consul', nacos: 'nacos', dubbo: 'zookeeper', eureka: 'eureka' };

function sideOf(name: FrameworkName, servers: ServerConnections): VmSide | undefined {
  if (name === 'consul' && servers.consul !== undefined) return consulSide(servers.consul);
  if (name === 'nacos' && servers.nacos !== undefined) return nacosSide(servers.nacos);
  if (name === 'eureka' && servers.eureka !== undefined) return eurekaSide(servers.eureka);
  return undefined;
}

/**
 * Every framework that ran made calls in both directions and none failed. Strict (a framework
 * named explicitly): a framework that is not available yet fails the run too.
 */
export function reportOk(frameworks: Partial<Record<FrameworkName, FrameworkReport>>, strict: boolean): boolean {
  const reports = Object.values(frameworks);
  const ran = reports.filter((r) => r.available);
  if (ran.length === 0 || (strict && ran.length < reports.length)) return false;
  return ran.every((r) => !('error' in r) && r.vmToPod.failures === 0 && r.podToVm.failures === 0 && r.vmToPod.calls > 0 && r.podToVm.calls > 0 && splitOk(r));
}

/**
 * Every split step was measured and, where the framework's consumer is held to it, followed
 * within SHARE_TOLERANCE; failed calls during the steps are counted in the directions' totals.
 */
export function splitOk(r: FrameworkResult): boolean {
  if (r.split.steps.length === 0) return false;
  return !r.split.asserted || r.split.steps.every((st) => Math.abs(st.vmToPod.podShare - st.declaredPodShare) <= SHARE_TOLERANCE);
}

export async function runDrill(
  selected: readonly FrameworkName[],
  servers: ServerConnections,
  settings: DrillSettings,
  log: (message: string) => void,
  strict = true,
  signal?: AbortSignal,
): Promise<DrillReport> {
  const build = await ensureSpringPeersJar(log);
  await mkdir(join(peersCacheDir(), 'runs'), { recursive: true });
  const workDir = await mkdtemp(join(peersCacheDir(), 'runs', 'drill-'));
  log(`drill logs in ${workDir}`);
  const frameworks: Partial<Record<FrameworkName, FrameworkReport>> = {};
  for (const name of selected) {
    const reason = UNAVAILABLE[name];
    if (reason !== undefined) {
      frameworks[name] = { available: false, reason };
      continue;
    }
    const side = sideOf(name, servers);
    const zookeeper = servers.zookeeper?.connectString;
    if (servers.kubernetes === undefined || (name === 'dubbo' ? zookeeper === undefined : side === undefined)) {
      frameworks[name] = { available: true, error: `the ${name} drill needs the kubernetes and ${VM_SERVER[name]} servers` };
      continue;
    }
    const dir = join(workDir, name);
    await mkdir(dir, { recursive: true });
    try {
      const common = { kubernetes: servers.kubernetes, workDir: dir, ...settings, log, ...(signal === undefined ? {} : { signal }) };
      const result = name === 'dubbo'
        ? await runDubboDrill({ ...common, zookeeper: zookeeper!, classpath: await buildDubboPeers(log) })
        : await runMigrationDrill({ ...common, side: side!, jar: build.jar });
      frameworks[name] = { available: true, ...result };
    } catch (error) {
      frameworks[name] = { available: true, error: (error as Error).message };
    }
    if (signal?.aborted === true) break;
  }
  return { ok: reportOk(frameworks, strict), settings, frameworks, build, workDir };
}
