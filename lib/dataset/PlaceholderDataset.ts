import { Dataset, type DatasetOrigin } from './Dataset';

/**
 * Stands in for a transform's input when a task re-runs the transform only to learn the ids of the functions
 * it creates. It is never computed.
 */
export class PlaceholderDataset<T = unknown> extends Dataset<T> {
  readonly type = 'placeholder';

  constructor(origin: DatasetOrigin) {
    super(origin);
  }

  protected args(): Record<string, unknown> {
    return {};
  }

  compute(): T[] {
    throw new Error('a placeholder dataset is never computed');
  }
}
