import { mkdir, mkdtemp, readdir, rm, stat, truncate } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { ResourceLimits } from 'node:worker_threads';
import type { DeadLetter } from '../dataset/TaskContext';
import { blockFolder } from '../dstream/BlockGenerator';
import type { OutputEvent } from '../dstream/DStreamOps';
import { CheckpointMismatchError, JobValidationError, SluiceError } from '../errors';
import { contextFromSource, type JobSource } from '../job/JobSource';
import type { Logger } from '../log/Logger';
import type { StreamingContext } from '../StreamingContext';
import { type CheckpointData, METADATA_KEY, readCheckpoint } from '../scheduler/CheckpointData';
import { LogicalClock, SystemClock } from '../scheduler/Clock';
import { checkpointMismatch } from '../scheduler/checkpointMismatch';
import { InProcessRunner } from '../scheduler/InProcessRunner';
import { driveJob } from '../scheduler/JobDriver';
import { JobScheduler, type RunSummary } from '../scheduler/JobScheduler';
import type { BatchInfo, StreamingListener } from '../scheduler/StreamingListener';
import type { TaskRunner } from '../scheduler/TaskRunner';
import { LocalFolderStore, RECOMPUTED_INPUT } from '../storage/LocalFolderStore';
import { appendToFile } from './appendToFile';
import { existingStoreDir } from './defaultStoreDir';
import { JsonlFiles } from './JsonlFiles';
import { type LocalDirs, localExecutorEnv } from './localExecutorEnv';
import { outputFileSize } from './outputFileSize';
import { refuseOutputsCutShort } from './outputsCutShort';
import { outputsInStoreIssues } from './outputsInStoreIssues';
import { LOCK_FILE, StoreLock } from './StoreLock';
import { WorkerPoolRunner } from './WorkerPoolRunner';

/** Settings of an embedded local run. */
export interface LocalRunOptions {
  /** `system` ticks in real time; `logical` runs batches back to back. Default `system`. */
  readonly clock?: 'system' | 'logical';
  /** Stop after this many batches. Default: run until stopped. */
  readonly batches?: number;
  /** Stop after this much stream time, in milliseconds. */
  readonly durationMs?: number;
  /** Worker threads; 0 runs every task in this thread. Default: one per core. */
  readonly workers?: number;
  /**
   * Node's limits for each worker thread (heap sizes): a thread that exceeds them dies, and is replaced.
   * Default: Node's defaults.
   */
  readonly workerResourceLimits?: ResourceLimits;
  /**
   * The block store folder; one run at a time holds it (a second one fails with `StoreLockedError`). Default
   * `.sluice/<job name>/` (see `existingStoreDir`).
   */
  readonly storeDir?: string;
  /** The folder output paths are relative to. Default: the current folder. */
  readonly outputDir?: string;
  /** Where `print` and stdout jsonl go. Default: process.stdout. */
  readonly write?: (text: string) => void;
  /**
   * Where the engine logs retries, speculative copies and dead letters (the CLI's `StderrLogger`). Default:
   * nowhere.
   */
  readonly log?: Logger;
  /** Extra listeners (the CLI's batch log line, tests). */
  readonly listeners?: readonly StreamingListener[];
  /** The dead-letter output file. Default `<storeDir>/dead-letter.jsonl`. */
  readonly deadLetterPath?: string;
  /**
   * Start from scratch: delete the store's checkpoint and blocks. Default false: a store holding a metadata
   * checkpoint of the same job resumes at its first incomplete batch.
   */
  readonly fresh?: boolean;
  /**
   * Back memory-level persistence with the block store, as the serverless runtime does (see
   * `StreamingEnv.memoryBackedByStore`); for checking that path locally. Default false.
   */
  readonly memoryBackedByStore?: boolean;
  /**
   * Whether what a restart reads (the checkpoint, state and input blocks, jsonl and dead-letter files,
   * `saveAsTextFiles` parts) is on the disk before the checkpoint that names it is written, so that a power
   * loss, not only a killed process, resumes where the checkpoint says. Default true; false only for a store
   * nobody resumes after a power loss (tests, benchmarks on throwaway folders), which saves an fsync per block.
   */
  readonly fsync?: boolean;
}

/**
 * The embedded local mode: the coordinator loop in this process, tasks on worker threads, storage in a local
 * folder. It is what `sluice run` and `npm start` use.
 */
export class LocalRuntime {
  private constructor(
    readonly ssc: StreamingContext,
    private readonly scheduler: JobScheduler,
    private readonly runners: TaskRunner[],
    private readonly options: LocalRunOptions,
    /** Set when the run resumes from a metadata checkpoint. */
    readonly checkpoint: CheckpointData | undefined,
    /** The block store folder, absolute. */
    readonly storeDir: string,
    private readonly lock: StoreLock,
  ) {}

  /** Builds the job, starts the worker threads and waits until they are ready. */
  static async start(job: JobSource, options: LocalRunOptions = {}): Promise<LocalRuntime> {
    const storeDir = resolve(options.storeDir ?? (await existingStoreDir(job)));
    const outputDir = resolve(options.outputDir ?? '.');
    const dirs: LocalDirs = {
      storeDir,
      outputDir,
      baseDir: job.kind === 'document' ? job.baseDir : dirname(resolve(job.path)),
      fsync: options.fsync ?? true,
    };
    const ssc = await contextFromSource(job);
    ssc.graph.start(0, ssc.minRememberMs); // validates the graph before any thread or source starts
    // A file given as --out failed the first batch that wrote under it (EEXIST, from its mkdir), after it ran.
    if ((await stat(outputDir).catch(() => undefined))?.isDirectory() === false) {
      throw new SluiceError(
        `the output folder ${outputDir} is a file: output paths are relative to a folder; give --out a folder`,
      );
    }
    // Only now are both folders known: validation saw the output paths without them.
    const inStore =
      job.kind === 'document'
        ? outputsInStoreIssues(job.document as Record<string, unknown>, outputDir, storeDir)
        : [];
    if (inStore.length > 0) throw new JobValidationError(inStore);
    const lock = await StoreLock.acquire(storeDir);
    try {
      return await LocalRuntime.startLocked(job, options, ssc, dirs, lock);
    } catch (error) {
      await lock.release();
      throw error;
    }
  }

  private static async startLocked(
    job: JobSource,
    options: LocalRunOptions,
    ssc: StreamingContext,
    dirs: LocalDirs,
    lock: StoreLock,
  ): Promise<LocalRuntime> {
    const { storeDir, outputDir } = dirs;
    const fsync = dirs.fsync ?? true;
    const store = new LocalFolderStore(storeDir, { fsync });
    if (options.fresh) {
      // Everything but the lock this run holds.
      const entries = (await readdir(storeDir)).filter((name) => name !== LOCK_FILE);
      await Promise.all(entries.map((name) => rm(join(storeDir, name), { recursive: true, force: true })));
    }
    // The blocks a `slice` computed again for a forgotten batch, which a run deletes as it forgets the batch again
    // or ends: those here were left by a run that died. No checkpoint names them, and the lock this run holds says
    // that no other run reads them.
    const recomputed = (await store.list('input/')).filter((key) => RECOMPUTED_INPUT.test(key));
    await Promise.all(recomputed.map((key) => store.deletePrefix(blockFolder(key))));
    const checkpoint = await readCheckpoint(store, {
      file: join(storeDir, METADATA_KEY),
      startOver: 'run with --fresh (or give this run another --store)',
    });
    // A job document's name is its identity (its default store, its S3 keys on AWS): a store holding another
    // job's checkpoint, given by --store, resumed that job's state and positions as this one's, when the shapes
    // matched. A TypeScript job's name is its path as given, which a run from another folder changes: not compared.
    const name = job.kind === 'document' ? String((job.document as { name?: unknown }).name) : undefined;
    if (checkpoint?.jobDocument !== undefined && name !== undefined && checkpoint.jobName !== name) {
      throw new CheckpointMismatchError(
        `the store ${storeDir}`,
        checkpoint.jobName,
        `while this run is of job ${JSON.stringify(name)}: its state and source positions are that job's`,
        `give this run its own --store (or give the job its old name to resume it; --fresh discards job ${JSON.stringify(checkpoint.jobName)}'s checkpoint)`,
      );
    }
    const mismatch = checkpoint && checkpointMismatch(checkpoint, ssc.graph);
    if (checkpoint && mismatch) {
      throw new CheckpointMismatchError(
        `the store ${storeDir}`,
        checkpoint.jobName,
        mismatch,
        'run with --fresh to discard it, or choose another --store',
      );
    }
    const deadLetterPath = resolve(options.deadLetterPath ?? join(storeDir, 'dead-letter.jsonl'));
    const jsonlFile = (path: string) => (isAbsolute(path) ? path : resolve(outputDir, path));
    if (checkpoint) await refuseOutputsCutShort(checkpoint.outputs, jsonlFile, deadLetterPath);
    // Checked before any thread starts or batch runs, and again at each checkpoint, which records their sizes.
    const outputPositions = async (paths: readonly string[]) => {
      // A Map, not `{}`: a jsonl output may be at the path `__proto__`.
      const sizes = new Map<string, number>();
      for (const file of paths.map(jsonlFile))
        sizes.set(file, await outputFileSize(file, 'the jsonl output', 'give the output another path'));
      sizes.set(
        deadLetterPath,
        await outputFileSize(deadLetterPath, 'the dead-letter file', 'give the run another --store'),
      );
      return Object.fromEntries(sizes);
    };
    await outputPositions([...ssc.jsonlPaths]);
    const env = localExecutorEnv(dirs, ssc.functions);
    const driverRunner = new InProcessRunner(env);
    const workers = options.workers ?? availableParallelism();
    let runner: TaskRunner = driverRunner;
    if (workers > 0) {
      const pool = new WorkerPoolRunner(job, dirs, workers, {
        ...(options.workerResourceLimits ? { resourceLimits: options.workerResourceLimits } : {}),
      });
      try {
        await pool.ready();
      } catch (error) {
        await pool.close();
        throw error;
      }
      runner = pool;
    }
    const write = options.write ?? ((text: string) => process.stdout.write(text));
    await mkdir(storeDir, { recursive: true });
    const jsonlFiles = new JsonlFiles(fsync);
    ssc.connect({
      store,
      outputs: new LocalFolderStore(outputDir, { fsync }),
      runner,
      driverRunner,
      ...(options.memoryBackedByStore ? { memoryBackedByStore: true } : {}),
      ...(options.log ? { log: options.log } : {}),
      print: write,
      appendJsonl: async (path, line, batchTime) => {
        if (path === undefined) write(`${line}\n`);
        else jsonlFiles.hold(jsonlFile(path), line, batchTime);
      },
      commitOutputs: (batchTimes) => jsonlFiles.commit(batchTimes),
      discardOutputs: (batchTime) => jsonlFiles.discard(batchTime),
      // Each file under its absolute path, the dead-letter file too: a size is of the file measured. Under the
      // output's own path, a restart with another --out cut a file of the same name there, another run's, to that
      // size (in the middle of a line, and its lines after it gone), and left this run's uncut.
      outputPositions,
      restoreOutputPositions: async (positions) => {
        for (const [path, size] of Object.entries(positions)) {
          const current = (await stat(jsonlFile(path)).catch(() => undefined))?.size;
          if (current !== undefined && current > size) await truncate(jsonlFile(path), size);
        }
      },
      writeDeadLetters: async (letters, batchTime) => {
        try {
          await appendToFile(deadLetterPath, letters.map((l) => `${JSON.stringify(l)}\n`).join(''), {
            fsync,
          });
        } catch (error) {
          throw new SluiceError(
            `batch ${batchTime} ran, but its dead letters could not be appended to ${deadLetterPath}: ` +
              `${(error as Error).message}; it is not counted as done, and the next run writes them again`,
          );
        }
      },
    });
    for (const listener of options.listeners ?? []) ssc.addListener(listener);
    const clock = options.clock === 'logical' ? new LogicalClock() : new SystemClock();
    const runners = runner === driverRunner ? [driverRunner] : [runner, driverRunner];
    const identity = {
      name: job.kind === 'document' ? String((job.document as { name?: unknown }).name ?? 'job') : job.path,
      ...(job.kind === 'document' ? { document: job.document } : {}),
    };
    return new LocalRuntime(
      ssc,
      new JobScheduler(ssc, clock, identity),
      runners,
      options,
      checkpoint,
      storeDir,
      lock,
    );
  }

  /** Runs until the limits, a stop, or a failed batch; then stops sources and threads. */
  async run(): Promise<RunSummary> {
    try {
      const summary = await driveJob(this.ssc, this.scheduler, {
        logicalClock: this.options.clock === 'logical',
        checkpoint: this.checkpoint,
        limits: {
          ...(this.options.batches !== undefined ? { batches: this.options.batches } : {}),
          ...(this.options.durationMs !== undefined ? { durationMs: this.options.durationMs } : {}),
        },
        runners: this.runners,
        ...(this.options.log ? { log: this.options.log } : {}),
      });
      return summary;
    } finally {
      await this.lock.release();
    }
  }

  /** Asks the run to stop once the running batch is done (Ctrl-C). */
  stop(): void {
    this.scheduler.stop();
  }
}

/** What `runBatches` returns: every output batch, every batch's metrics, every dead letter. */
export interface BatchesResult {
  readonly outputs: readonly OutputEvent[];
  readonly batches: readonly BatchInfo[];
  readonly deadLetters: readonly DeadLetter[];
  readonly error?: Error;
  /**
   * The output batches of one output, by name, as lists of records (Spark-style expected tables). A name that
   * is none of the job's outputs throws, naming them.
   */
  recordsOf(output: string): unknown[][];
}

/**
 * Runs N batches of a job on the logical clock (or the system clock, with `clock: 'system'`) and hands back each
 * output batch: for tests and notebooks.
 * The store lives in a fresh temporary folder unless one is given, and so do the file outputs (`jsonl` to a path,
 * `saveAsTextFiles`) unless `outputDir` is given: both temporary folders are removed afterwards, since the records
 * are in the result. A programmatic run never writes into the current folder, which a test does not own.
 */
export async function runBatches(
  job: JobSource,
  batches: number,
  options: Omit<LocalRunOptions, 'batches'> = {},
): Promise<BatchesResult> {
  const temp = options.storeDir && options.outputDir ? undefined : await mkdtemp(join(tmpdir(), 'sluice-'));
  const outputs: OutputEvent[] = [];
  const deadLetters: DeadLetter[] = [];
  try {
    const runtime = await LocalRuntime.start(job, {
      workers: 0,
      write: () => {},
      ...options,
      storeDir: options.storeDir ?? join(temp!, 'store'),
      outputDir: options.outputDir ?? join(temp!, 'outputs'),
      clock: options.clock ?? 'logical',
      batches,
      listeners: [
        ...(options.listeners ?? []),
        { onOutput: (e) => outputs.push(e), onDeadLetters: (l) => deadLetters.push(...l) },
      ],
    });
    const summary = await runtime.run();
    // The graph's outputs, and the names a foreachRDD gave what it emitted itself (`ssc.emitOutput`).
    const outputNames = [
      ...new Set([...runtime.ssc.graph.outputs.map((o) => o.name), ...outputs.map((o) => o.output)]),
    ];
    return {
      outputs,
      batches: summary.batches,
      deadLetters,
      ...(summary.error ? { error: summary.error } : {}),
      recordsOf: (name) => {
        // A misspelt or default-named output would otherwise read as an output that produced nothing.
        if (!outputNames.includes(name)) throw new RangeError(unknownOutputMessage(name, outputNames));
        return outputs.filter((o) => o.output === name).map((o) => [...o.records]);
      },
    };
  } finally {
    if (temp) await rm(temp, { recursive: true, force: true });
  }
}

function unknownOutputMessage(name: string, outputNames: readonly string[]): string {
  const known = outputNames.map((n) => JSON.stringify(n)).join(', ');
  return (
    `the job has no output named ${JSON.stringify(name)}; its outputs are ${known} (an output is named by its ` +
    `last argument, .print(10, 'counts'), or by "name" in a job document)`
  );
}
