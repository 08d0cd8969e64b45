export * from './buildJob';
export * from './builtinFunctions';
export * from './FunctionRegistry';
export * from './JobDocument';
export * from './validateJob';
