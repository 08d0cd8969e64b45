import { describeCombiningTable } from '../helpers/combiningTable';

// The `slow` project: every operator table with the combining shuffle on a pool of worker threads, each case
// starting two pools.
describeCombiningTable({ name: 'worker threads', workers: 2 });
