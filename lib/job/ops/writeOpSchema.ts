// Writes what the op catalogue generates: the `streamOp` and `datasetOp` definitions of lib/job/job.schema.json
// and the ops tables of README.md (between their marker comments). Run by `npm run schema` (which then formats the
// schema and compiles the validator); the rest of both files is written by hand and kept as it is. A test fails
// while either committed file differs from what this writes.
import { readFileSync, writeFileSync } from 'node:fs';
import { DATASET_OPS, STREAM_OPS } from './opCatalogue';
import { withOpTables } from './opReadmeTables';
import { opSchemaDefinitions } from './opSchema';

const file = new URL('../job.schema.json', import.meta.url);
const schema = JSON.parse(readFileSync(file, 'utf8'));
// Replaced in place, so the definitions keep their order in the file and a diff shows only what changed.
Object.assign(schema.definitions, opSchemaDefinitions(STREAM_OPS, DATASET_OPS));
writeFileSync(file, `${JSON.stringify(schema, null, 2)}\n`);

const readmeFile = new URL('../../../README.md', import.meta.url);
const readme = readFileSync(readmeFile, 'utf8');
const updated = withOpTables(readme);
// Written only when a table changed, so a run while someone edits another part of the README touches nothing.
if (updated !== readme) writeFileSync(readmeFile, updated);
