/**
 * The package's public API, what `import { ... } from 'sluice'` gives: what a job author writes against (a job
 * module's `defineJob`, the context, streams and datasets, sources, partitioners, state specs), the JSON job
 * format's builder and validator, programmatic runs (`runBatches`), the listener's metric types and the named
 * errors. The serverless runtime (`lib/aws/`), the CLI and the development Lambda host are not part of it: they
 * are reached through the `sluice` command and the CDK stack.
 */

export * from './dataset';
export type { DStream } from './dstream/DStream';
export type { OutputEvent } from './dstream/DStreamOps';
export type { InputDStream, InputStreamOptions } from './dstream/InputDStream';
export type { StateSpec } from './dstream/StateSpec';
export * from './errors';
export * from './job';
export { contextFromModule, defineJob, type JobModule } from './job/JobModule';
export type { JobSource } from './job/JobSource';
export {
  type BatchesResult,
  type LocalRunOptions,
  LocalRuntime,
  runBatches,
} from './local/LocalRuntime';
export { StreamingContext, type StreamingContextOptions } from './StreamingContext';
export type {
  BatchCost,
  BatchInfo,
  BatchUsage,
  JobInfo,
  OutputOpInfo,
  StageInfo,
  StreamingListener,
  TaskInfo,
} from './scheduler/StreamingListener';
export * from './source';
export type { BlockStore } from './storage/BlockStore';
export { LocalFolderStore } from './storage/LocalFolderStore';
