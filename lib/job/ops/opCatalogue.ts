import { count, countByValue, reduce, repartition, transform, transformWith, union } from './batchOps';
import {
  cogroup,
  combineByKey,
  countByKey,
  fullOuterJoin,
  groupByKey,
  join,
  leftOuterJoin,
  reduceByKey,
  rightOuterJoin,
} from './keyedOps';
import type { OpDocument, OpEntry } from './OpEntry';
import {
  filter,
  flatMap,
  flatMapValues,
  glom,
  keyBy,
  map,
  mapPartitions,
  mapValues,
  sortBy,
} from './recordOps';
import { mapWithState, stateSnapshots, updateStateByKey } from './stateOps';
import {
  countByValueAndWindow,
  countByWindow,
  groupByKeyAndWindow,
  reduceByKeyAndWindow,
  reduceByWindow,
  window,
} from './windowOps';

/**
 * Every op a JSON job's stream can apply, in the order the schema lists them: the one list that the schema
 * (`npm run schema`), the document types, `validateJob` and `buildJob` read. An op is added here and in the file
 * of its group.
 */
export const STREAM_OPS = [
  map,
  flatMap,
  filter,
  mapPartitions,
  glom,
  keyBy,
  mapValues,
  flatMapValues,
  union,
  repartition,
  count,
  reduce,
  countByValue,
  countByKey,
  transform,
  transformWith,
  groupByKey,
  reduceByKey,
  combineByKey,
  join,
  leftOuterJoin,
  rightOuterJoin,
  fullOuterJoin,
  cogroup,
  window,
  countByWindow,
  reduceByWindow,
  reduceByKeyAndWindow,
  countByValueAndWindow,
  groupByKeyAndWindow,
  updateStateByKey,
  mapWithState,
  stateSnapshots,
  sortBy,
] as const;

/** An entry of the catalogue. */
export type StreamOpEntry = (typeof STREAM_OPS)[number];

/** Every op a stream can apply, as a document writes it. */
export type StreamOp = OpDocument<StreamOpEntry>;

/** An op name a stream accepts. */
export type StreamOpName = StreamOpEntry['name'];

/**
 * The ops a static dataset accepts, in the schema's order: record-level ones only, as a static dataset is
 * recomputed with every batch. Each has `buildDataset`.
 */
export const DATASET_OPS = [
  map,
  flatMap,
  filter,
  mapPartitions,
  glom,
  keyBy,
  mapValues,
  flatMapValues,
] as const;

/** The ops a static dataset can apply, as a document writes them. */
export type DatasetOp = OpDocument<(typeof DATASET_OPS)[number]>;

/** An op name a static dataset accepts. */
export type DatasetOpName = DatasetOp['op'];

/** Every op name a stream accepts, in the order the schema lists them. */
export const STREAM_OP_NAMES: readonly StreamOpName[] = STREAM_OPS.map((entry) => entry.name);

/** The ops a static dataset accepts. */
export const DATASET_OP_NAMES: readonly DatasetOpName[] = DATASET_OPS.map((entry) => entry.name);

const streamOps: ReadonlyMap<string, OpEntry<string, any>> = new Map(STREAM_OPS.map((e) => [e.name, e]));
const datasetOps: ReadonlyMap<string, OpEntry<string, any>> = new Map(DATASET_OPS.map((e) => [e.name, e]));

/** The entry of an op a stream applies, or undefined for a name no op has. */
export function streamOpEntry(name: string): OpEntry<string, any> | undefined {
  return streamOps.get(name);
}

/** The entry of an op a static dataset applies, or undefined for a name no dataset op has. */
export function datasetOpEntry(name: string): OpEntry<string, any> | undefined {
  return datasetOps.get(name);
}
