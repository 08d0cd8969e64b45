import { describeOperatorTable } from '../helpers/operatorTable';

// The `slow` project: every stateless case on a pool of worker threads, each case starting its own pool.
describeOperatorTable({ name: 'worker threads', workers: 2 });
