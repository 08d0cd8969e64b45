export type {
  GeneratedRecords,
  GeneratorKind,
  GeneratorSourceOptions,
  KeyValueRecord,
  Tweet,
} from './GeneratorSource';
export { GeneratorSource } from './GeneratorSource';
export type { QueueSourceOptions } from './QueueSource';
export { QueueSource } from './QueueSource';
export type { BatchLimit, RateLimitOptions } from './RateLimit';
export { RateLimit } from './RateLimit';
export type { SocketSourceOptions } from './SocketSource';
export { DEFAULT_MAX_LINE_BYTES, SocketSource } from './SocketSource';
export type { Source, SourceContext } from './Source';
export type { SourceError, SourceStatus } from './SourceStatus';
export type { TextFileSourceOptions } from './TextFileSource';
export { TextFileSource } from './TextFileSource';
export type { UnreadableInput, UnreadableRecord } from './UnreadableRecord';
