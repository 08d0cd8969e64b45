import { describeStateOperations } from '../helpers/stateTable';

// The `slow` project: the state operations' table and runs on a pool of worker threads, each run starting its own
// pool.
describeStateOperations({ name: 'worker threads', workers: 2 });
