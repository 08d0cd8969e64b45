import { Dataset, type DatasetOrigin, type DatasetSpec } from './Dataset';
import type { AnyFn } from './FnScope';
import type { TaskContext } from './TaskContext';

/** The record-level transformations that keep partitioning as it is (Spark's MapPartitionsRDD). */
export type MapKind = 'map' | 'flatMap' | 'filter' | 'mapPartitions' | 'glom' | 'mapValues' | 'flatMapValues';

/**
 * Applies a function within each partition. A function that throws on a record (malformed JSON, a wrong type)
 * sends that record to the dead-letter output and the partition goes on; functions may return promises
 * (inline expressions do).
 */
export class MapPartitionsDataset<T = unknown> extends Dataset<T> {
  readonly type = 'mapPartitions';

  constructor(
    origin: DatasetOrigin,
    readonly kind: MapKind,
    readonly fnId: string,
  ) {
    super(origin);
  }

  /** Rebuilds the dataset inside a task. */
  static fromSpec(spec: DatasetSpec): MapPartitionsDataset {
    return new MapPartitionsDataset({ spec }, spec.args.kind as MapKind, spec.args.fn as string);
  }

  protected args(): Record<string, unknown> {
    return { kind: this.kind, fn: this.fnId };
  }

  async compute(partition: number, tc: TaskContext): Promise<T[]> {
    const input = await tc.partitionOf(this.depSpecs[0]!.parent, partition);
    const fn = this.kind === 'glom' ? undefined : tc.fn(this.fnId);
    const fail = (record: unknown, error: unknown) =>
      tc.deadLetter(this.toString(), this.fnId, record, error);
    switch (this.kind) {
      case 'glom':
        return [input as T];
      case 'mapPartitions':
        return Array.from(await (fn as AnyFn)(input, partition)) as T[];
      default:
        return applyPerRecord(this.kind, fn as AnyFn, input, fail) as Promise<T[]>;
    }
  }
}

/** The per-record loop, kept apart so V8 sees one small hot function per kind of call site. */
async function applyPerRecord(
  kind: MapKind,
  fn: AnyFn,
  input: unknown[],
  fail: (record: unknown, error: unknown) => void,
): Promise<unknown[]> {
  const out: unknown[] = [];
  for (let i = 0; i < input.length; i++) {
    const record = input[i];
    try {
      switch (kind) {
        case 'map': {
          let y = fn(record);
          if (y instanceof Promise) y = await y;
          out.push(y);
          break;
        }
        case 'filter': {
          let keep = fn(record);
          if (keep instanceof Promise) keep = await keep;
          if (keep) out.push(record);
          break;
        }
        case 'flatMap': {
          let ys = fn(record);
          if (ys instanceof Promise) ys = await ys;
          if (ys != null) for (const y of ys) out.push(y);
          break;
        }
        case 'mapValues': {
          const [k, v] = record as [unknown, unknown];
          let y = fn(v);
          if (y instanceof Promise) y = await y;
          out.push([k, y]);
          break;
        }
        case 'flatMapValues': {
          const [k, v] = record as [unknown, unknown];
          let ys = fn(v);
          if (ys instanceof Promise) ys = await ys;
          if (ys != null) for (const y of ys) out.push([k, y]);
          break;
        }
        default:
          throw new Error(`unknown map kind ${kind}`);
      }
    } catch (error) {
      fail(record, error);
    }
  }
  return out;
}
