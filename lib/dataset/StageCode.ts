import type { StagePlan } from '../plan/Plan';
import type { AggregatorSpec } from './Dependency';
import * as sharedLoops from './RecordLoops';

/** The per-record loops of a stage: one copy of the `RecordLoops` module. */
export type RecordLoops = typeof sharedLoops;

/**
 * The copies of `RecordLoops`: the module imported again under a query of its own (`?stage=N`), which gives it
 * functions of its own. tsx, vitest and Node's own loader treat a query as another module, and so does esbuild when
 * it bundles a Lambda handler, which it can only do for paths written out in full: hence a table, not a template.
 * A loaded module stays loaded, so their number is fixed; stages past them share the module as everything else
 * imports it. A job's stages repeat every batch under the same key, so a job rarely needs more than a few.
 */
const COPIES: ReadonlyArray<() => Promise<unknown>> = [
  () => import('./RecordLoops?stage=1' as string),
  () => import('./RecordLoops?stage=2' as string),
  () => import('./RecordLoops?stage=3' as string),
  () => import('./RecordLoops?stage=4' as string),
  () => import('./RecordLoops?stage=5' as string),
  () => import('./RecordLoops?stage=6' as string),
  () => import('./RecordLoops?stage=7' as string),
  () => import('./RecordLoops?stage=8' as string),
  () => import('./RecordLoops?stage=9' as string),
  () => import('./RecordLoops?stage=10' as string),
  () => import('./RecordLoops?stage=11' as string),
  () => import('./RecordLoops?stage=12' as string),
  () => import('./RecordLoops?stage=13' as string),
  () => import('./RecordLoops?stage=14' as string),
  () => import('./RecordLoops?stage=15' as string),
  () => import('./RecordLoops?stage=16' as string),
];

/** How many stages of a process can have a copy of their own. */
export const MAX_STAGE_COPIES = COPIES.length;

const copies = new Map<string, Promise<RecordLoops>>();

/**
 * The stage's own copy of the per-record loops, so that what V8 learns running one stage's functions does not slow
 * another (see `RecordLoops`). Stages that call the same functions share a copy, as do the tasks of a stage batch
 * after batch. A stage without functions uses the shared module, as does any stage when a copy fails to load.
 */
export function loopsFor(stage: StagePlan): RecordLoops | Promise<RecordLoops> {
  const key = stageCodeKey(stage);
  if (key === '') return sharedLoops;
  let copy = copies.get(key);
  if (!copy) {
    const load = COPIES[copies.size];
    if (!load) return sharedLoops;
    copy = load().then(
      (module) => module as RecordLoops,
      () => sharedLoops,
    );
    copies.set(key, copy);
  }
  return copy;
}

/**
 * What a stage runs, as the functions its loops call: each per-record op's kind and function, and each aggregator's
 * functions, in plan order. A function a transform made at one batch time (`n7@2000/1`) is named without the time,
 * so the same op shares its copy across batches.
 */
export function stageCodeKey(stage: StagePlan): string {
  const parts: string[] = [];
  for (const spec of stage.datasets) {
    const { kind, fn, aggregator } = spec.args;
    if (typeof fn === 'string') parts.push(`${String(kind)}:${fn}`);
    if (aggregator) parts.push(aggregatorKey(aggregator as AggregatorSpec));
  }
  if (stage.shuffleWrite?.aggregator) parts.push(`write:${aggregatorKey(stage.shuffleWrite.aggregator)}`);
  return parts.join(' ').replace(/@\d+\//g, '@/');
}

function aggregatorKey(spec: AggregatorSpec): string {
  return `${spec.createCombiner},${spec.mergeValue},${spec.mergeCombiners}`;
}
