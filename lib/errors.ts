/**
 * Sluice's named errors, in one place. Messages are sentences a user can act on: they name the offending
 * value and what was expected.
 */

/** The root of every error Sluice throws on purpose. */
export class SluiceError extends Error {
  override name = 'SluiceError';
}

/** One problem found in a job document, located by its JSON path. */
export interface JobIssue {
  /** Where the problem is, such as `streams.counts.ops[1].windowMs`. */
  readonly path: string;
  /** What is wrong and what was expected. */
  readonly message: string;
  /** The value found at that path, when there is one. */
  readonly value?: unknown;
}

/** A job document that cannot run: every issue names the field at fault. Exit code 2 in the CLI. */
export class JobValidationError extends SluiceError {
  override name = 'JobValidationError';
  /** @param what what is invalid, for the first line: the job, or an event about one (`invalid event:`) */
  constructor(
    readonly issues: readonly JobIssue[],
    what = 'job',
  ) {
    super(
      `invalid ${what}:\n${issues
        .map(
          (i) =>
            `  ${i.path || '(root)'}: ${i.message}${i.value === undefined ? '' : ` (got ${preview(i.value)})`}`,
        )
        .join('\n')}`,
    );
  }
}

/**
 * One thing wrong with an argument of an operator: `field` names the argument as the job document's op field
 * does (`windowMs`, `slideMs`, `checkpointIntervalMs`), or is undefined when the op as a whole is at fault.
 */
export interface GraphProblem {
  readonly field: string | undefined;
  readonly message: string;
  readonly value?: unknown;
}

/**
 * A stream graph that cannot be built: mismatched slides, a union of different intervals, and so on. It carries
 * the origin (see `OpOrigin`) of the stream that raised it, so a job document's validator reports it at the JSON
 * path of the op, and each problem with the argument at fault.
 */
export class StreamGraphError extends SluiceError {
  override name = 'StreamGraphError';
  /** The problems, each at its argument; by default one, the message, at the op as a whole. */
  readonly problems: readonly GraphProblem[];

  constructor(
    message: string,
    /** Where the op that raised it was written, when known: `streams.x.ops[1] (window)`, `job.ts:14 (map)`. */
    readonly origin?: string,
    problems?: readonly GraphProblem[],
  ) {
    super(message);
    this.problems = problems ?? [{ field: undefined, message }];
  }

  /**
   * The message led by where the stream was made (`job.ts:4 (window): window of 2500 ms …`), unless it names
   * that already: a TypeScript job's error names the argument, and its line is what tells the user which op.
   */
  get located(): string {
    if (this.origin === undefined) return this.message;
    const line = this.origin.replace(/ \([^()]*\)$/, '');
    return this.message.includes(line) ? this.message : `${this.origin}: ${this.message}`;
  }
}

/** A user function broke a contract the engine relies on, such as a transform that returned nothing. */
export class UserFunctionError extends SluiceError {
  override name = 'UserFunctionError';
}

/**
 * A task failed on every attempt; the batch it belongs to fails without writing partial output. The message
 * leads with the op that failed when the plan knows it: `streams.counts.ops[2] (reduceByKey): task 1 of stage 0
 * failed 4 time(s); last error: …` for a job document, the job module's source line for a TypeScript job.
 */
export class TaskFailedError extends SluiceError {
  override name = 'TaskFailedError';
  constructor(
    readonly stageId: number,
    readonly partition: number,
    readonly attempts: number,
    readonly cause: string,
    /** Where the failing dataset came from (`DatasetSpec.origin`), when known. */
    readonly origin?: string,
    /** The id of the stream whose own dataset failed (`TaskResult.stream`), when known. */
    readonly stream?: string,
  ) {
    super(
      `${origin === undefined ? '' : `${origin}: `}task ${partition} of stage ${stageId} failed ${attempts} time(s); last error: ${cause}`,
    );
  }
}

/** A task needed a partition from another process's memory that is no longer there; the job replans. */
export class CacheMissError extends SluiceError {
  override name = 'CacheMissError';
  constructor(readonly key: string) {
    super(`persisted dataset ${key} is no longer cached; it will be recomputed from its lineage`);
  }
}

/**
 * A block read back from the store that is not what Sluice wrote there: cut short, or overwritten. Sluice writes a
 * block whole (a new file renamed into place, one S3 PUT) and never changes it, so something else did, and computing
 * on from it would turn a lost state or window into wrong output; the task fails naming the block instead.
 */
export class DamagedBlockError extends SluiceError {
  override name = 'DamagedBlockError';
  /**
   * @param key the block's key in the store (`persist/n4@1600/1`)
   * @param reason what reading it found (`Unexpected end of JSON input`)
   */
  constructor(key: string, reason: string) {
    super(
      `block ${key} of the store is damaged (${reason}): Sluice writes a block whole and never changes it, so ` +
        'something else did (an edit, a power loss, a disk that lost its end); put the block back, or start the job over ' +
        '(run with --fresh, or send "fresh": true on AWS)',
    );
  }
}

/**
 * A block a batch reads that the store no longer holds. Sluice deletes a block only once no batch its checkpoint
 * runs reads it (see the cleanup of `JobScheduler`), so a file of the store was deleted by something else: this one,
 * or a state or window block whose checkpoint had let cleanup delete the input blocks before it, which a rebuild
 * then reads. The task fails saying so, rather than with a bare `ENOENT` or a plea to report a bug.
 */
export class MissingBlockError extends SluiceError {
  override name = 'MissingBlockError';
  /**
   * @param key the block's key in the store (`input/n1/4000/block`)
   * @param readFor why the batch reads it, when that is not the block itself (`the base of the state delta
   *   persist/n3@5000/0`)
   */
  constructor(key: string, readFor?: string) {
    super(
      `block ${key} is missing from the store, yet a batch reads it${readFor ? ` as ${readFor}` : ''}: ` +
        'Sluice deletes a block only once no batch ' +
        'of its checkpoint reads it, so a file of the store was deleted by something else (this one, or a state or ' +
        'window block under persist/ whose checkpoint had let cleanup delete it); put the files back, or start the ' +
        'job over (run with --fresh, or send "fresh": true on AWS)',
    );
  }
}

/** A shuffle output a task read and did not find, with what wrote it once the scheduler knows. */
export interface LostShuffleOutput {
  readonly shuffleId: number;
  /** The output's key in the store (`shuffle/1000/0/1`, `shuffle/1000/0/merged-0`). */
  readonly key: string;
  /** The map task that wrote it; absent for a merge task's output, or while unknown (in the task). */
  readonly mapPartition?: number;
  /** The merge task of a combining shuffle that wrote it, when it did. */
  readonly mergeGroup?: number;
}

/**
 * A map output of a shuffle is missing from the store when a task reads it (Spark's FetchFailedException). A task
 * raises it, and the scheduler does not retry the task: it recomputes the lost output from lineage and runs the
 * reading stage again. With `attempts`, the stage found an output missing that many times in a row, each time
 * after recomputing it, and the batch fails (Spark's `spark.stage.maxConsecutiveAttempts`).
 */
export class FetchFailedError extends SluiceError {
  override name = 'FetchFailedError';
  readonly shuffleId: number;
  readonly key: string;
  readonly mapPartition: number | undefined;
  readonly mergeGroup: number | undefined;

  /**
   * @param lost the output that is missing
   * @param attempts set once the reading stage gave up: how many times it ran
   * @param stageId the reading stage, with `attempts`
   * @param alsoMissing other outputs of the shuffle the task found missing, recomputed together with this one
   */
  constructor(
    lost: LostShuffleOutput,
    readonly attempts?: number,
    stageId?: number,
    readonly alsoMissing: readonly string[] = [],
  ) {
    const writer =
      lost.mapPartition !== undefined
        ? ` (map partition ${lost.mapPartition})`
        : lost.mergeGroup !== undefined
          ? ` (merge group ${lost.mergeGroup})`
          : '';
    super(
      `map output ${lost.key} of shuffle ${lost.shuffleId}${writer} is missing from the store` +
        (attempts === undefined
          ? ''
          : `: stage ${stageId} found it missing in ${attempts} attempts, each after it was recomputed, so ` +
            "something deletes the store's shuffle/ blocks while batches run (a lifecycle rule, a cleanup script, " +
            'another run on the same store); stop that, then run the job again'),
    );
    this.shuffleId = lost.shuffleId;
    this.key = lost.key;
    this.mapPartition = lost.mapPartition;
    this.mergeGroup = lost.mergeGroup;
  }
}

/**
 * The job argument of a command names no file Sluice can run: a path that does not exist, a folder, a file of
 * another kind than a job document or module. Exit code 2 in the CLI, like an invalid job.
 */
export class JobFileError extends SluiceError {
  override name = 'JobFileError';
  constructor(argument: string, problem: string) {
    super(`job ${argument}: ${problem}`);
  }
}

/**
 * A store holds the checkpoint of a job that the job as it is now cannot resume: its stream graph has another
 * shape, or a stream built from its own previous dataset (state, an incremental window) has other settings.
 * Resuming would mix state, so the job is refused until it is started over.
 */
export class CheckpointMismatchError extends SluiceError {
  override name = 'CheckpointMismatchError';
  /**
   * @param store where the checkpoint is, as the user knows it (`the store /home/me/.sluice/job`)
   * @param jobName the job that wrote the checkpoint
   * @param reason what does not match, completing "a checkpoint of job … " (`whose stream graph has another shape`)
   * @param startOver how to discard the checkpoint (`run with --fresh to discard it, or choose another --store`)
   */
  constructor(store: string, jobName: string, reason: string, startOver: string) {
    super(`${store} holds a checkpoint of job ${JSON.stringify(jobName)} ${reason}; ${startOver}`);
  }
}

/**
 * A store's metadata checkpoint that is not a checkpoint: it is not JSON, or not of the shape Sluice writes.
 * Sluice writes it whole (a new file renamed over the old one), so something else changed it, and no older
 * checkpoint is kept to fall back to: the way on is to start over.
 */
export class CorruptCheckpointError extends SluiceError {
  override name = 'CorruptCheckpointError';
  /**
   * @param file where the checkpoint is (a path locally, a key on S3)
   * @param reason what is wrong with it
   * @param startOver how to start the job over, such as `run with --fresh`
   */
  constructor(file: string, reason: string, startOver: string) {
    super(
      `the checkpoint ${file} is damaged (${reason}); Sluice writes it whole, so something else changed it, and ` +
        `there is no older checkpoint to resume from: ${startOver} to start the job over from its first batch`,
    );
  }
}

/** Another run, alive, holds the store: two runs on one store would compute the same batches twice. */
export class StoreLockedError extends SluiceError {
  override name = 'StoreLockedError';
  constructor(storeDir: string, pid: number | undefined, since: string | undefined) {
    const holder =
      pid === undefined ? 'another run' : `another run (PID ${pid}${since ? `, since ${since}` : ''})`;
    super(
      `the store ${storeDir} is in use by ${holder}; wait for that run to end or stop it, or give this run ` +
        'its own --store',
    );
  }
}

/** A plan asks for something the chosen runner cannot execute (Beam-style capability check). */
export class UnsupportedPlanError extends SluiceError {
  override name = 'UnsupportedPlanError';
}

/**
 * Why a task's result could not leave where it ran (`where`: a worker thread, a Lambda worker): a record holds a
 * value neither structured clone nor JSON carries, such as a function. The same sentence in both modes.
 */
export function unsendableResultMessage(where: string, reason: string): string {
  return `a record of its result cannot leave the ${where} (${reason}); records must be data, such as JSON values, not functions`;
}

/** A short, single-line rendering of a value for error messages. */
export function preview(value: unknown, maxChars = 80): string {
  // JSON.stringify writes a non-finite number as null, which would hide a `1e400` that JSON.parse read as Infinity.
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  let text: string;
  try {
    text = typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  } catch {
    text = String(value);
  }
  return text.length > maxChars ? `${text.slice(0, maxChars - 1)}…` : text;
}

/** An error as one line names it, `RangeError: …` (a thrown value that is no Error, as text). */
export function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/**
 * A server of Sluice's (the Streaming UI, the Lambda host) could not listen: its port on the loopback is taken.
 * The command that asked for the port completes the sentence with the option that picks another.
 */
export class PortInUseError extends SluiceError {
  override name = 'PortInUseError';
  /**
   * @param host the loopback address asked for (`127.0.0.1`)
   * @param port the port asked for
   */
  constructor(
    host: string,
    readonly port: number,
  ) {
    super(`port ${port} on ${host} is in use`);
  }
}
