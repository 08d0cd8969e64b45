import type { StagePlan } from '../plan/Plan';
import type { AggregatorSpec } from './Dependency';
import * as sharedLoops from './RecordLoops';

/** The per-record loops of a stage: one copy of the `RecordLoops` module. */
export type RecordLoops = typeof sharedLoops;

/**
 * Copies of `RecordLoops` kept per process at most. A loaded module stays loaded, so the count is bounded; stages
 * past it share the first copy. A job's stages repeat every batch under the same key, so a job rarely needs more
 * than a few.
 */
export const MAX_STAGE_COPIES = 32;

const copies = new Map<string, Promise<RecordLoops>>();

/**
 * Where `RecordLoops` is, as this module finds it beside itself: `.ts` in a checkout, `.js` in the built package.
 * In a bundle (a Lambda handler) there is no such file, and `import.meta.url` names the bundle (or is undefined,
 * in CommonJS): then every stage shares the one copy the bundle holds.
 */
const loopsUrl: string | undefined = (() => {
  const self: unknown = import.meta.url;
  if (typeof self !== 'string') return undefined;
  const extension = /\/StageCode\.(ts|js)$/.exec(new URL(self).pathname)?.[1];
  return extension ? new URL(`./RecordLoops.${extension}`, self).href : undefined;
})();

/**
 * The stage's own copy of the per-record loops: the module imported again under a URL of its own (`?stage=N`),
 * which gives it functions of its own, so that what V8 learns running one stage's functions does not slow another
 * (see `RecordLoops`). Stages that call the same functions share a copy, as do the tasks of a stage batch after
 * batch. A stage without functions, or a process without the module's file, uses the shared copy.
 */
export function loopsFor(stage: StagePlan): RecordLoops | Promise<RecordLoops> {
  const key = stageCodeKey(stage);
  if (key === '' || loopsUrl === undefined) return sharedLoops;
  let copy = copies.get(key);
  if (!copy) {
    if (copies.size >= MAX_STAGE_COPIES) return sharedLoops;
    copy = import(`${loopsUrl}?stage=${copies.size + 1}`).then(
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
