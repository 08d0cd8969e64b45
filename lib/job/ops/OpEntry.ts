import type { Dataset } from '../../dataset/Dataset';
import type { DStream } from '../../dstream/DStream';
import type { ValueShape } from '../../executor/ValueShape';
import type { FunctionKind, JobFunction } from '../builtinFunctions';

/**
 * One operation of a JSON job, described once: its name, the JSON schema of its fields, the document type of
 * those fields, how the validator checks what a schema cannot, and how the builder applies it to a stream. The
 * schema's `streamOp` and `datasetOp` definitions, the README's ops tables, the `StreamOp` type, `validateJob`'s
 * per-op checks and `buildJob`'s dispatch are all read from the entries, so adding an op is one entry in a file of
 * `lib/job/ops/` plus its tests (see "Adding an operation" in the README).
 *
 * `Fields` is the op's document type without `op`. The compiler holds the entry's `fields` schema to exactly its
 * keys, and `required` to its required ones; that each field's schema accepts what its type says is for the op's
 * tests to show (every op, with all its fields, in `everyOp` of `test/job/validateJob.test.ts`).
 *
 * @example
 * export const count = defineOp<'count', {}>({
 *   name: 'count',
 *   description: 'One record per batch: the number of records (0 for an empty batch).',
 *   spark: 'one record per batch; an empty batch gives `0`',
 *   fields: {},
 *   build: (node) => node.count(),
 * });
 */
export interface OpEntry<Name extends string = string, Fields extends object = object> {
  /** The op's name, which is its DStream method's name. */
  readonly name: Name;
  /** One sentence for the schema's `enumDescriptions`, which editors show while a user picks an op. */
  readonly description: string;
  /**
   * The op's cell in the README's "Spark semantics" column: what it computes, in Spark's terms, in a few words of
   * markdown. Consecutive entries of a table with the same fields and the same text share one row (`map`,
   * `flatMap`, `filter`: "per record").
   */
  readonly spark: string;
  /** The JSON schema of each field besides `op`, usually a `$ref` (see {@link ref}) to a shared definition. */
  readonly fields: Readonly<Record<keyof Fields & string, object>>;
  /** The fields a document must give: the required ones of `Fields`. Default: none. */
  readonly required?: readonly RequiredKeys<Fields>[];
  /**
   * A few words after a field in the README's fields column, where its name and `?` (optional) do not say enough:
   * a default, what it names, which field it excludes. Default: none.
   */
  readonly fieldNotes?: Readonly<Partial<Record<keyof Fields & string, string>>>;
  /**
   * Takes a registry function `fn` or an inline JSONata `expr`, exactly one of them (map, filter, keyBy...); such
   * an `fn` must be a record function. Default false.
   */
  readonly expression?: boolean;
  /**
   * The kind of function each of its other function-name fields names, such as `{ fn: 'reducer', invFn:
   * 'reducer' }`: the validator checks that each names a known function, and refuses, at the field's path, one the
   * registry knows to be of another kind (`reduce` naming `hashtags`). A function of the `functions` module
   * registered without a kind is trusted. Default: none.
   */
  readonly functionFields?: Readonly<Partial<Record<keyof Fields & string, FunctionKind>>>;
  /**
   * The op it must come right after, because it reads that op's node (stateSnapshots reads mapWithState's state),
   * or first in a stream whose `from` ends with that op. Default: any place.
   */
  readonly follows?: string;
  /**
   * The checks a schema cannot make, beyond the shared ones (`with` names, `fn` or `expr`, the kinds of
   * `functionFields`). Windows, slides and checkpoint intervals are the engine's, reported at the op's path once
   * the graph is built. Default: none.
   */
  validate?(op: Fields & { readonly op: Name }, check: OpChecks): void;
  /** Applies the op to a stream; the builder has validated the document first. */
  build(node: DStream<any>, op: Fields & { readonly op: Name }, ctx: OpBuildContext): DStream<any>;
  /**
   * Applies the op to a static dataset; only record-level ops have it, as a static dataset is recomputed with
   * every batch. Default: the op is refused on datasets.
   */
  buildDataset?(dataset: Dataset<any>, op: Fields & { readonly op: Name }, ctx: OpBuildContext): Dataset<any>;
}

/** What an entry's `build` may ask of the builder: functions, inputs, and where in the document it is. */
export interface OpBuildContext {
  /** The JSON path of the op, such as `streams.counts.ops[1]`. */
  readonly path: string;
  /** The registry function a field names, with the op's `args` for `fn`. */
  named(field: string): JobFunction;
  /** The function of an expression op: its `fn`, or its `expr` compiled and shaped for the op. */
  recordFunction(): JobFunction;
  /** A JSONata expression field compiled and shaped as the named op's function would be. */
  expression(field: string, shapedAs: string): JobFunction;
  /** True when a name is a static dataset rather than a source or stream. */
  isDataset(name: string): boolean;
  /** The source or stream of a name, built first when it is not built yet. */
  stream(name: string): DStream<any>;
  /** The static dataset of a name. */
  dataset(name: string): Dataset<any>;
}

/** What an entry's `validate` may check; every problem is reported at the JSON path of its field. */
export interface OpChecks {
  /** `fn` or `expr`, exactly one; a valid expression; no `args` beside `expr`; `fn` a known record function. */
  functionOrExpression(): void;
  /** A function-name field names a known function, of `kind` when given and the registry knows it. */
  function(field: string, kind?: FunctionKind): void;
  /** An inline JSONata expression field compiles. */
  expression(field: string): void;
  /** A field names a static dataset (such as `initialState`). */
  datasetName(field: string): void;
  /** True when a field names, without args, the given built-in (not a replacement of the same name). */
  namesBuiltin(field: string, builtin: unknown): boolean;
  /** Reports a problem at a field of the op (or at the op itself when `field` is undefined). */
  report(field: string | undefined, message: string, value?: unknown): void;
}

/** Declares an entry; the type parameters give the op's name and document fields. */
export function defineOp<Name extends string, Fields extends object>(
  entry: OpEntry<Name, Fields>,
): OpEntry<Name, Fields> {
  return entry;
}

/** How an op with another input ({@link withInputOp}) combines each batch with it. */
export interface WithInput {
  /** With another stream, batch by batch. */
  readonly stream: (node: DStream<any>, other: DStream<any>, partitions: number | undefined) => DStream<any>;
  /** With a static dataset, every batch. */
  readonly dataset: (mine: Dataset<any>, other: Dataset<any>, partitions: number | undefined) => Dataset<any>;
  /**
   * The shape of the values made with a static dataset (whose values are `plain`) from values shaped `mine`, for
   * `print` (see `DStream.valueShape`); without it, `plain`. With a stream, `stream`'s op sets its own.
   */
  readonly valueShape?: (mine: ValueShape) => ValueShape;
}

/**
 * An op that combines each batch with the input `with` names, into `partitions`: another stream, batch by batch, or
 * a static dataset, with every batch (as Spark's spam filter joins a stream with an RDD in `transform`).
 */
export function withInputOp<Name extends string>(
  name: Name,
  description: string,
  spark: string,
  combine: WithInput,
): OpEntry<Name, { with: string; partitions?: number }> {
  return defineOp<Name, { with: string; partitions?: number }>({
    name,
    description,
    spark,
    fields: { with: ref('withRef'), partitions: ref('partitions') },
    required: ['with'],
    build: (node, op, ctx) => {
      // A JSON op's partitions default to the job's defaultPartitions (its schema says so), where a Dataset op
      // given none would follow its parents' partitioning as Spark's RDD ops do.
      const partitions = op.partitions ?? node.ssc.defaultPartitions;
      if (!ctx.isDataset(op.with)) return combine.stream(node, ctx.stream(op.with), partitions);
      const dataset = ctx.dataset(op.with);
      const combined = node.transform((ds) => combine.dataset(ds, dataset, partitions));
      if (combine.valueShape) combined.valueShape = combine.valueShape(node.valueShape);
      return combined;
    },
  });
}

/** A reference to a definition shared by many ops in `job.schema.json` (`partitions`, `windowMs`, `fn`...). */
export function ref(definition: string): object {
  return { $ref: `#/definitions/${definition}` };
}

/** The keys of the fields a type requires (not marked `?`). */
type RequiredKeys<Fields> = {
  [K in keyof Fields & string]-?: {} extends Pick<Fields, K> ? never : K;
}[keyof Fields & string];

/** The document type of an op, `{ op, ...fields }`, from its entry; distributes over a union of entries. */
export type OpDocument<E> =
  E extends OpEntry<infer Name, infer Fields> ? Readonly<Fields> & { readonly op: Name } : never;
