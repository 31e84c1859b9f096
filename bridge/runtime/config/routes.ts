import { DEFAULT_POLICY } from '../../model/index.ts';
import type { NameMap, Route, RoutePolicy, Selector } from '../../model/index.ts';
import { isPlainObject } from './problems.ts';
import type { RegistryKinds } from './registry-kind.ts';
import type { FileRoute } from './schema.ts';
import type { ConfigProblem, RegistryConfig } from './types.ts';

interface Named {
  readonly id: string;
  readonly path: string;
}

/** `from`/`to` as written (string or list) → ids with the pointer each came from. */
function names(value: unknown, path: string): Named[] {
  if (typeof value === 'string') return [{ id: value, path }];
  if (!Array.isArray(value)) return [];
  return value.flatMap((v, i) => (typeof v === 'string' ? [{ id: v, path: `${path}/${i}` }] : []));
}

/**
 * Cross-field checks the schema cannot express: every route names configured registries of the
 * right capability, and never the same registry on both ends. `registries` holds only the valid
 * entries; `rawIds` all the written ids, so a registry with its own problems is not also
 * reported as unknown.
 */
export function routeProblems(
  routes: unknown,
  registries: Readonly<Record<string, RegistryConfig>>,
  rawIds: readonly string[],
  kinds: RegistryKinds,
): ConfigProblem[] {
  if (!Array.isArray(routes)) return [];
  const problems: ConfigProblem[] = [];
  const configured = [...rawIds].sort().join(', ') || 'none';
  routes.forEach((route: unknown, i) => {
    if (!isPlainObject(route)) return;
    const ends = { from: names(route['from'], `/routes/${i}/from`), to: names(route['to'], `/routes/${i}/to`) };
    for (const end of ['from', 'to'] as const) {
      const seen = new Set<string>();
      for (const { id, path } of ends[end]) {
        if (seen.has(id)) problems.push({ path, message: `registry "${id}" is listed twice` });
        seen.add(id);
        if (!rawIds.includes(id)) {
          problems.push({ path, message: `unknown registry "${id}" (configured: ${configured})` });
          continue;
        }
        const registry = registries[id];
        const kind = registry === undefined ? undefined : kinds[registry.kind];
        if (registry === undefined || kind === undefined) continue;
        if (end === 'from' && !kind.canSource) {
          problems.push({ path, message: `registry "${id}" (kind ${registry.kind}) cannot be a route source` });
        }
        if (end === 'to' && !kind.canSink) {
          problems.push({ path, message: `registry "${id}" (kind ${registry.kind}) cannot be a route target` });
        }
      }
    }
    const sources = new Set(ends.from.map((n) => n.id));
    for (const { id, path } of ends.to) {
      if (sources.has(id)) problems.push({ path, message: `registry "${id}" is both a source and a target of this route` });
    }
  });
  return problems;
}

function list(value: string | readonly string[]): string[] {
  return typeof value === 'string' ? [value] : [...new Set(value)];
}

/**
 * Expands validated routes into model routes: one per target, so the engine, status and metrics
 * deal with exactly one sink per route. Ids read `from->to` (`a+b->c` for several sources) and
 * are made unique with `#2`, `#3`… in file order, so they stay stable while the file does.
 */
export function expandRoutes(routes: readonly FileRoute[]): Route[] {
  const out: Route[] = [];
  const used = new Map<string, number>();
  for (const r of routes) {
    const from = list(r.from);
    for (const to of list(r.to)) {
      const base = `${from.join('+')}->${to}`;
      const n = (used.get(base) ?? 0) + 1;
      used.set(base, n);
      out.push({
        id: n === 1 ? base : `${base}#${n}`,
        from,
        to,
        select: selector(r.select),
        map: nameMap(r.map),
        policy: policy(r.policy),
      });
    }
  }
  return out;
}

function selector(s: FileRoute['select']): Selector {
  if (s === undefined) return {};
  return {
    ...(s.namespaces === undefined ? {} : { namespaces: [...s.namespaces] }),
    ...(s.services === undefined ? {} : { services: [...s.services] }),
    ...(s.metadata === undefined ? {} : { metadata: { ...s.metadata } }),
  };
}

function nameMap(m: FileRoute['map']): NameMap {
  if (m === undefined) return {};
  return {
    ...(m.namespace === undefined ? {} : { namespace: m.namespace }),
    ...(m.prefix === undefined ? {} : { prefix: m.prefix }),
    ...(m.suffix === undefined ? {} : { suffix: m.suffix }),
  };
}

function policy(p: FileRoute['policy']): RoutePolicy {
  const d = DEFAULT_POLICY;
  const g = p?.deleteGuard;
  return {
    deleteGuard: {
      maxShrinkPercent: g?.maxShrinkPercent ?? d.deleteGuard.maxShrinkPercent,
      holdSeconds: g?.holdSeconds ?? d.deleteGuard.holdSeconds,
      registryEmpty: g?.registryEmpty ?? d.deleteGuard.registryEmpty,
    },
    ...(p?.staleAfterSeconds === undefined ? {} : { staleAfterSeconds: p.staleAfterSeconds }),
    exportDraining: p?.exportDraining ?? d.exportDraining,
  };
}
