import { BATCH_OPS } from './batchOps';
import { KEYED_OPS } from './keyedOps';
import type { OpDocument, OpEntry } from './OpEntry';
import { DATASET_OPS, RECORD_OPS } from './recordOps';
import { STATE_OPS } from './stateOps';
import { WINDOW_OPS } from './windowOps';

/**
 * Every op a JSON job's stream can apply, in the order the schema lists them: the one list that the schema and the
 * README's ops tables (`npm run schema`), the document types, `validateJob` and `buildJob` read. Each group's file
 * lists its entries, so an op is added in one file: its entry, and its name in the group's list (in `DATASET_OPS`,
 * which `RECORD_OPS` includes, for a record op that static datasets take too).
 */
export const STREAM_OPS = [...RECORD_OPS, ...BATCH_OPS, ...KEYED_OPS, ...WINDOW_OPS, ...STATE_OPS] as const;

/** An entry of the catalogue. */
export type StreamOpEntry = (typeof STREAM_OPS)[number];

/** Every op a stream can apply, as a document writes it. */
export type StreamOp = OpDocument<StreamOpEntry>;

/** An op name a stream accepts. */
export type StreamOpName = StreamOpEntry['name'];

/** The ops a static dataset accepts, listed in `recordOps.ts`. */
export { DATASET_OPS };

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
