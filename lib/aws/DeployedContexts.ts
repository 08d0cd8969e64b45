import { buildDeployedJob } from '../job/buildDeployedJob';
import { deployedModules } from '../job/DeployedModules';
import type { Logger } from '../log/Logger';
import { silentLogger } from '../log/Logger';
import type { StreamingContext } from '../StreamingContext';
import { readCheckpoint } from '../scheduler/CheckpointData';
import { jobStorePrefix } from './bucketLayout';
import type { CoordinatorClients, CoordinatorConfig } from './CoordinatorRuntime';
import type { JobRecords } from './JobRecords';
import { emptyThrough, isPeekable } from './JobSleep';
import { KinesisSource } from './KinesisSource';
import { logRetries } from './logRetries';
import { S3PrefixSource } from './S3PrefixSource';

/**
 * A deployed job's streaming context as the coordinator builds it: its Kinesis and S3 prefix sources read with the
 * deployment's clients and leave the reading to the workers' tasks (direct reads). The tick's sleep check builds
 * one too, only to look for new records.
 */
export class DeployedContexts {
  constructor(
    private readonly clients: CoordinatorClients,
    private readonly config: CoordinatorConfig,
    private readonly records: JobRecords,
  ) {}

  /**
   * The tick's check of a sleeping job: whether any of its sources has a record after the position in its
   * checkpoint (see `KinesisSource.hasNewRecords`, `S3PrefixSource.hasNewRecords`). It builds the job's sources
   * and reads the checkpoint, and neither writes nor takes the lease. A source that cannot tell counts as new.
   */
  async hasNewInput(name: string, doc: Record<string, unknown>): Promise<boolean> {
    const ssc = await this.build(
      doc,
      () => undefined,
      () => 0,
    );
    const store = this.records.jobStore(name);
    const checkpoint = await readCheckpoint(store);
    for (const input of ssc.graph.inputs) {
      const source = input.source;
      if (!isPeekable(source)) return true;
      await source.start?.({ intervalMs: ssc.batchIntervalMs, logicalClock: false });
      try {
        const position = checkpoint?.sources[input.id];
        if (position !== undefined) source.restorePosition?.(position);
        if (await source.hasNewRecords((key) => store.get(key))) return true;
      } finally {
        await source.stop?.();
      }
    }
    return false;
  }

  /** The job's context, its sources reading until `readDeadlineMs` and nothing for batches through `emptyUntil`. */
  build(
    doc: Record<string, unknown>,
    readDeadlineMs: () => number | undefined,
    emptyUntil: () => number,
    log: Logger = silentLogger,
  ): Promise<StreamingContext> {
    return buildDeployedJob(doc, {
      deployedModules,
      baseDir: '/',
      staticBase: this.records.staticBase,
      kinesisSource: (spec) =>
        emptyThrough(
          new KinesisSource({
            client: this.clients.kinesis,
            streamName: spec.streamName ?? this.config.stream ?? '',
            ...(spec.maxRecordsPerShard ? { maxRecordsPerShard: spec.maxRecordsPerShard } : {}),
            ...(spec.startAt ? { startAt: spec.startAt } : {}),
            readDeadlineMs,
            retry: { onRetry: logRetries(log, 'Kinesis') },
            // Workers read the shard ranges and report into the job's store; the coordinator only plans.
            direct: { storeUrl: `s3://${this.config.bucket}/${jobStorePrefix(String(doc.name))}` },
          }),
          emptyUntil,
        ),
      s3PrefixSource: (spec) =>
        emptyThrough(
          new S3PrefixSource({
            client: this.clients.s3,
            bucket: spec.bucket,
            prefix: spec.prefix,
            ...(spec.maxObjectsPerBatch ? { maxObjectsPerBatch: spec.maxObjectsPerBatch } : {}),
            ...(spec.maxPartBytes ? { maxPartBytes: spec.maxPartBytes } : {}),
            readDeadlineMs,
            direct: { storeUrl: `s3://${this.config.bucket}/${jobStorePrefix(String(doc.name))}` },
          }),
          emptyUntil,
        ),
    });
  }
}
