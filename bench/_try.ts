import { timeEmptyBatches } from './emptyBatchOverhead';

console.log(JSON.stringify(await timeEmptyBatches(2, 200, 2)));
console.log(JSON.stringify(await timeEmptyBatches(0, 200, 2)));
