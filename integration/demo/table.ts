// Renders an observation as the demo's table: one row per endpoint, one column per registry,
// each cell telling whether the endpoint is there natively (its own framework or controller
// put it there), there because Isthmus exported it, or still missing. Pure, so it is testable.
import type { Column, Observation } from './observe.ts';
import { REGISTRIES, SERVICE_NAMES, TOPOLOGY, homeOf, sideOf, type Home } from './topology.ts';

/** VMs (192.168.x) before pods (10.x), then by address. */
function byAddress(a: string, b: string): number {
  const rank = (ep: string): number => (ep.startsWith('192.168.') ? 0 : ep.startsWith('10.') ? 1 : 2);
  return rank(a) - rank(b) || a.localeCompare(b, 'en', { numeric: true });
}

export const COLUMNS: readonly Column[] = [...REGISTRIES, 'resolver'];

/** Where Isthmus should have put an endpoint whose home is `home`, given the demo's routes. */
export function expectedIn(home: Home): readonly Column[] {
  return home === 'kubernetes' ? [...REGISTRIES, 'resolver'] : [home, 'kubernetes', 'resolver'];
}

export interface Rendered {
  readonly text: string;
  /** Every endpoint is everywhere the routes say it should be. */
  readonly complete: boolean;
}

// One width per registry, so a registry added to the topology lines up without touching this.
const WIDTHS = [11, 20, 5, ...REGISTRIES.map(() => 12), 9];

function row(cells: readonly string[]): string {
  return cells.map((c, i) => c.padEnd(WIDTHS[i] ?? 10)).join(' ').trimEnd();
}

function cell(col: Column, home: Home | undefined, present: boolean, expected: boolean): string {
  if (col === 'resolver') return present ? 'answers' : expected ? '(pending)' : '-';
  if (present) return col === home ? 'native' : home === undefined ? 'present' : 'via isthmus';
  return expected ? '(pending)' : '-';
}

export function renderTable(obs: Observation): Rendered {
  const lines = [row(['SERVICE', 'ENDPOINT', 'SIDE', ...COLUMNS.map((c) => (c === 'kubernetes' ? 'KUBERNETES' : c.toUpperCase()))])];
  let complete = true;
  for (const name of SERVICE_NAMES) {
    const seen = new Set<string>(TOPOLOGY.filter((s) => s.name === name).flatMap((s) => s.endpoints.map((e) => `${e.address}:${e.port}`)));
    // Foreign records in the shared registries are shown only once Isthmus acted on them.
    for (const col of ['kubernetes', 'resolver'] as const) {
      const v = obs.get(col);
      if (v instanceof Map) for (const ep of v.get(name) ?? []) seen.add(ep);
    }
    let first = true;
    for (const ep of [...seen].sort(byAddress)) {
      const address = ep.slice(0, ep.lastIndexOf(':'));
      const home = homeOf(address);
      const cells = COLUMNS.map((col) => {
        const v = obs.get(col);
        if (!(v instanceof Map)) return 'error';
        const expected = home !== undefined && expectedIn(home).includes(col);
        const present = (v.get(name) ?? []).includes(ep);
        if (expected && !present) complete = false;
        return cell(col, home, present, expected);
      });
      lines.push(row([first ? name : '', ep, sideOf(address) ?? '?', ...cells]));
      first = false;
    }
  }
  const errors = COLUMNS.flatMap((col) => {
    const v = obs.get(col);
    return v instanceof Error ? [`  ${col}: ${v.message}`] : [];
  });
  if (errors.length > 0) {
    complete = false;
    lines.push('', 'Unreachable:', ...errors);
  }
  return { text: lines.join('\n'), complete };
}

export function legend(): string {
  const stories = TOPOLOGY.map((s) => `  ${s.name.padEnd(10)} ${s.home.padEnd(10)} ${s.story}${s.nativeName === undefined ? '' : ` — ${s.nativeName}`}`);
  return [
    'native = registered there by its own framework/controller; via isthmus = written by the bridge;',
    'answers = the bridge\'s resolver (GET /v1/services/<ns>/<name>) returns it; - = not routed there.',
    '',
    ...stories,
  ].join('\n');
}
