import './DatasetOps';

export * from './BlockDataset';
export * from './CoGroupedDataset';
export * from './Dataset';
export * from './DatasetOps';
export * from './Dependency';
export * from './FnScope';
export * from './KeyedMap';
export * from './MapPartitionsDataset';
export * from './ParallelDataset';
export * from './Partitioner';
export * from './PlaceholderDataset';
export * from './ShuffledDataset';
export * from './TaskContext';
export * from './TextFileDataset';
export * from './UnionDataset';
