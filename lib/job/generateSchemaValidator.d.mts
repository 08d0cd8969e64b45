/** A schema compiled ahead of time, and where its module goes. */
export interface SchemaValidator {
  readonly schema: URL;
  readonly output: URL;
  readonly banner: string;
  readonly exportSchema: boolean;
}

/** The validators the generator writes: the job schema's, then the worker event's. */
export declare const validators: readonly SchemaValidator[];

/** The text of a generated module as the generator writes it now (by default the job schema's). */
export declare function validatorSource(validator?: SchemaValidator): string;
