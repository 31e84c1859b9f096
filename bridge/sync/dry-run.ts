import type { Route } from '../model/index.ts';
import type { Sink, Source } from '../ports/index.ts';
import { ReconcileContext } from './reconcile-context.ts';
import { reconcile, type ReconcileResult } from './reconciler.ts';
import type { Target } from './target.ts';
import type { Weights } from './weights.ts';

export interface DryRunInput {
  readonly bridgeId: string;
  readonly sources: readonly Source[];
  readonly sinks: readonly Sink[];
  readonly routes: readonly Route[];
  readonly weights?: Weights;
}

/**
 * What a writer would do now to every target, decided exactly as the engine decides (same
 * context, same reconcile) with writing off: `isthmus plan`. Reads every source's cache and
 * lists every sink's owned records, so garbage a writer would collect shows up too.
 */
export async function planTargets(input: DryRunInput): Promise<{ key: string; target: Target; result: ReconcileResult }[]> {
  const ctx = new ReconcileContext(input.bridgeId, input.sources, input.sinks, input.routes, input.weights);
  for (const source of input.sources) for (const ref of source.keys()) ctx.noteSource(source.id, ref);
  for (const sink of input.sinks) for (const ref of await sink.ownedRefs()) ctx.noteOwned(sink.id, ref);
  const out: { key: string; target: Target; result: ReconcileResult }[] = [];
  for (const key of [...ctx.keys()].sort()) {
    const target = ctx.target(key);
    if (target === undefined || !ctx.sinks.has(target.sink)) continue;
    out.push({ key, target, result: await reconcile(ctx.input(key, target, false)) });
  }
  return out;
}
