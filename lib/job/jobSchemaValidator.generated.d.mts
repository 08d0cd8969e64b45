// Types of the generated validator (see generateSchemaValidator.mjs).
import type { ValidateFunction } from 'ajv';

/** The job schema, compiled ahead of time. */
export declare const validate: ValidateFunction;
export default validate;
