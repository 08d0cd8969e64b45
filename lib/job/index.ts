export * from './buildJob';
export * from './builtinFunctions';
export { kinesisStream, s3PrefixStream } from './cloudStreams';
export * from './FunctionRegistry';
export * from './JobDocument';
export * from './validateJob';
