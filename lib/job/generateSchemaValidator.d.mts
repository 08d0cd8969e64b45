/** The text of `jobSchemaValidator.generated.mjs` as the generator writes it now. */
export declare function validatorSource(): string;
