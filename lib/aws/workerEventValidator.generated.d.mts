// Types of the generated validator (see lib/job/generateSchemaValidator.mjs).
import type { ValidateFunction } from 'ajv';

/** The worker event's schema, compiled ahead of time. */
export declare const validate: ValidateFunction;
export default validate;

/** workerEvent.schema.json itself, whose annotations (`description`, `whenMissing`) the issues' messages read. */
export declare const schema: Record<string, unknown>;
