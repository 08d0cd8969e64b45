import { BlockDataset } from './BlockDataset';
import { CartesianDataset } from './CartesianDataset';
import { CoalescedDataset } from './CoalescedDataset';
import { CoGroupedDataset } from './CoGroupedDataset';
import { CombinedInPlaceDataset } from './CombinedInPlaceDataset';
import type { Dataset, DatasetSpec } from './Dataset';
import { DirectInputDataset } from './DirectInputDataset';
import { DirectReadDataset } from './DirectReadDataset';
import { MapPartitionsDataset } from './MapPartitionsDataset';
import { MapWithStateDataset } from './MapWithStateDataset';
import { ParallelDataset } from './ParallelDataset';
import { PartitionerAwareUnionDataset } from './PartitionerAwareUnionDataset';
import { PersistedDataset } from './PersistedDataset';
import { ReceivedBlocksDataset } from './ReceivedBlocksDataset';
import { ShuffledDataset } from './ShuffledDataset';
import { TextFileDataset } from './TextFileDataset';
import { UnionDataset } from './UnionDataset';

/** How a task rebuilds each kind of dataset from its plan form. */
export const datasetTypes: Readonly<Record<string, (spec: DatasetSpec) => Dataset>> = {
  block: BlockDataset.fromSpec,
  cartesian: CartesianDataset.fromSpec,
  coalesced: CoalescedDataset.fromSpec,
  cogroup: CoGroupedDataset.fromSpec,
  combinedInPlace: CombinedInPlaceDataset.fromSpec,
  directInput: DirectInputDataset.fromSpec,
  directRead: DirectReadDataset.fromSpec,
  mapPartitions: MapPartitionsDataset.fromSpec,
  mapWithState: MapWithStateDataset.fromSpec,
  cached: PersistedDataset.fromSpec,
  parallel: ParallelDataset.fromSpec,
  partitionerAwareUnion: PartitionerAwareUnionDataset.fromSpec,
  receivedBlocks: ReceivedBlocksDataset.fromSpec,
  shuffled: ShuffledDataset.fromSpec,
  stored: PersistedDataset.fromSpec,
  textFile: TextFileDataset.fromSpec,
  union: UnionDataset.fromSpec,
};
