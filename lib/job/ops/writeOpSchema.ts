// Writes the generated part of lib/job/job.schema.json: the `streamOp` and `datasetOp` definitions, from the op
// catalogue. Run by `npm run schema` (which then formats the file and compiles the validator); the rest of the
// file is written by hand and kept as it is. A test fails while the committed file differs from what this writes.
import { readFileSync, writeFileSync } from 'node:fs';
import { DATASET_OPS, STREAM_OPS } from './opCatalogue';
import { opSchemaDefinitions } from './opSchema';

const file = new URL('../job.schema.json', import.meta.url);
const schema = JSON.parse(readFileSync(file, 'utf8'));
// Replaced in place, so the definitions keep their order in the file and a diff shows only what changed.
Object.assign(schema.definitions, opSchemaDefinitions(STREAM_OPS, DATASET_OPS));
writeFileSync(file, `${JSON.stringify(schema, null, 2)}\n`);
