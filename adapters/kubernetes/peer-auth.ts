// Istio's PeerAuthentication resolution for the export-side mTLS preflight: which mode the pods
// behind an exported Service run with, from the policies the bridge can see. Pure; the I/O lives
// in mtls-preflight.ts.
import type { CustomResource } from './client.ts';
import type { ObjectMeta } from './types.ts';

export const PEER_AUTH_GROUP = 'security.istio.io';
/** v1 first (Istio ≥ 1.22); v1beta1 for older control planes that do not serve v1 yet. */
export const PEER_AUTH_VERSIONS = ['v1', 'v1beta1'] as const;
export const peerAuthResource = (version: string): CustomResource => ({ group: PEER_AUTH_GROUP, version, plural: 'peerauthentications' });

export type MtlsMode = 'UNSET' | 'DISABLE' | 'PERMISSIVE' | 'STRICT';

export interface KPeerAuthentication {
  metadata?: ObjectMeta & { creationTimestamp?: string };
  spec?: {
    selector?: { matchLabels?: Record<string, string> };
    mtls?: { mode?: string };
    portLevelMtls?: Record<string, { mode?: string }>;
  };
}

/** What the preflight knows of one exported Service. */
export interface ExportedWorkload {
  readonly namespace: string;
  readonly name: string;
  /** The Service selector: the only pod labels we know without watching pods. */
  readonly selector: Readonly<Record<string, string>>;
  /** Container ports the exported ports reach (targetPort resolved where the slices say). */
  readonly targetPorts: readonly number[];
}

export interface MtlsFinding {
  /** `namespace/name` of the deciding PeerAuthentication. */
  readonly policy: string;
  /** Target ports refused; empty when the whole workload is STRICT. */
  readonly ports: readonly number[];
  /** True when a policy's selector uses labels beyond the Service selector: pods may differ. */
  readonly uncertain: boolean;
  readonly reason: string;
}

function modeOf(raw: string | undefined): MtlsMode {
  return raw === 'STRICT' || raw === 'PERMISSIVE' || raw === 'DISABLE' ? raw : 'UNSET';
}

const labelsOf = (pa: KPeerAuthentication): Record<string, string> => pa.spec?.selector?.matchLabels ?? {};
const hasSelector = (pa: KPeerAuthentication): boolean => Object.keys(labelsOf(pa)).length > 0;
const nameOf = (pa: KPeerAuthentication): string => `${pa.metadata?.namespace ?? ''}/${pa.metadata?.name ?? ''}`;

/** Istio picks the oldest policy when several apply at one level; name breaks ties for stability. */
function oldest(pas: readonly KPeerAuthentication[]): KPeerAuthentication | undefined {
  return [...pas].sort((a, b) => (a.metadata?.creationTimestamp ?? '').localeCompare(b.metadata?.creationTimestamp ?? '') || nameOf(a).localeCompare(nameOf(b)))[0];
}

/**
 * 'yes' when every label the policy selects is in the Service selector with that value; 'maybe'
 * when it also asks for labels the selector does not fix (some pods may carry them); 'no' on a
 * conflicting value, since every selected pod carries the selector's value.
 */
function matches(pa: KPeerAuthentication, selector: Readonly<Record<string, string>>): 'yes' | 'maybe' | 'no' {
  let sure = true;
  for (const [k, v] of Object.entries(labelsOf(pa))) {
    const have = selector[k];
    if (have === undefined) sure = false;
    else if (have !== v) return 'no';
  }
  return sure ? 'yes' : 'maybe';
}

interface Resolved { readonly mode: MtlsMode; readonly policy: string; readonly strictPorts: number[] }

/** Workload > namespace > mesh; UNSET inherits the level above; nothing set = PERMISSIVE. */
function resolve(workload: KPeerAuthentication | undefined, namespace: KPeerAuthentication | undefined, mesh: KPeerAuthentication | undefined, ports: readonly number[]): Resolved {
  let mode: MtlsMode = 'PERMISSIVE';
  let policy = '';
  for (const pa of [mesh, namespace, workload]) {
    const m = modeOf(pa?.spec?.mtls?.mode);
    if (pa === undefined || m === 'UNSET') continue;
    mode = m;
    policy = nameOf(pa);
  }
  const strictPorts: number[] = [];
  let portPolicy = '';
  for (const port of ports) {
    // Port-level settings only count on a policy with a selector (Istio ignores them otherwise).
    const level = workload === undefined ? 'UNSET' : modeOf(workload.spec?.portLevelMtls?.[String(port)]?.mode);
    if ((level === 'UNSET' ? mode : level) !== 'STRICT') continue;
    strictPorts.push(port);
    if (level === 'STRICT' && workload !== undefined) portPolicy = nameOf(workload);
  }
  return { mode, policy: portPolicy !== '' && mode !== 'STRICT' ? portPolicy : policy, strictPorts };
}

/**
 * The STRICT finding for one exported workload, or undefined when VM callers can reach it in
 * plaintext. `pas` may hold policies of any namespace; only the workload's own and the root
 * namespace's count. A workload with no exported port is judged on its workload-wide mode.
 */
export function strictFor(w: ExportedWorkload, pas: readonly KPeerAuthentication[], rootNamespace: string): MtlsFinding | undefined {
  const inNs = pas.filter((pa) => pa.metadata?.namespace === w.namespace);
  const namespace = oldest(inNs.filter((pa) => !hasSelector(pa)));
  const mesh = oldest(pas.filter((pa) => pa.metadata?.namespace === rootNamespace && !hasSelector(pa)));
  // Istio ignores selector policies in the root namespace, even for that namespace's own pods.
  const selecting = w.namespace === rootNamespace ? [] : inNs.filter(hasSelector);
  const sure = oldest(selecting.filter((pa) => matches(pa, w.selector) === 'yes'));
  const maybe = oldest(selecting.filter((pa) => matches(pa, w.selector) !== 'no'));
  const certain = resolve(sure, namespace, mesh, w.targetPorts);
  const possible = maybe === sure ? certain : resolve(maybe, namespace, mesh, w.targetPorts);
  const strict = (r: Resolved): boolean => r.mode === 'STRICT' || r.strictPorts.length > 0;
  const decided = strict(certain) ? certain : strict(possible) ? possible : undefined;
  if (decided === undefined) return undefined;
  // Uncertain when the two readings disagree: pods with the extra labels run another mode.
  const uncertain = !strict(certain) || !strict(possible) || certain.strictPorts.join() !== possible.strictPorts.join();
  const all = decided.mode === 'STRICT' && decided.strictPorts.length === w.targetPorts.length;
  const ports = all ? [] : decided.strictPorts;
  const where = ports.length === 0 ? '' : ` port${ports.length === 1 ? '' : 's'} ${ports.join(',')}`;
  const verb = uncertain ? 'may refuse' : 'refuses';
  return { policy: decided.policy, ports, uncertain, reason: `STRICT mTLS (PeerAuthentication ${decided.policy}) ${verb} plaintext from VM callers on ${w.namespace}/${w.name}${where}` };
}
