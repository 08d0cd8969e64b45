import type { OpEntry } from './OpEntry';

/**
 * The `streamOp` and `datasetOp` definitions of `job.schema.json`, written from the catalogue by `npm run schema`:
 * an `op` enum with one description per op for editors, then per op an `if op is X then only X's fields` rule, so a
 * misspelt field is reported at its own path. The rest of the schema (top level, sources, outputs, the shared
 * field definitions the entries refer to) is written by hand.
 */
export function opSchemaDefinitions(
  streamOps: readonly OpEntry<string, any>[],
  datasetOps: readonly OpEntry<string, any>[],
): { streamOp: object; datasetOp: object } {
  return {
    streamOp: definition(streamOps, 'One transformation; `op` selects it and decides the other fields.'),
    datasetOp: definition(datasetOps, 'A record-level transformation of a static dataset.'),
  };
}

function definition(entries: readonly OpEntry<string, any>[], description: string): object {
  return {
    type: 'object',
    description,
    $comment: GENERATED,
    required: ['op'],
    properties: {
      op: {
        type: 'string',
        enum: entries.map((entry) => entry.name),
        enumDescriptions: entries.map((entry) => entry.description),
        description: 'The operation, by its DStream method name.',
      },
    },
    allOf: entries.map((entry) => ({
      if: { properties: { op: { const: entry.name } }, required: ['op'] },
      // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then keyword, in a plain object never awaited
      then: {
        description: entry.description,
        properties: { op: true, ...entry.fields },
        ...(entry.required !== undefined && entry.required.length > 0 ? { required: entry.required } : {}),
        additionalProperties: false,
      },
    })),
  };
}

/** Marks the generated definitions in the schema file, for whoever opens it to edit them. */
const GENERATED =
  'Generated from the op catalogue (lib/job/ops/) by `npm run schema`: edit the entries there, not this.';
