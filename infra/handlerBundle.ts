/**
 * How a Sluice function's handler is bundled into Lambda code. One description for both ways the code is made:
 * `npm run build` bundles `functions/*.ts` into the package with esbuild, so that a stack constructed from the
 * installed package needs no bundler; a checkout (and an installed package deploying job modules) bundles at
 * synth time through `NodejsFunction`. This file imports nothing, so the build script can read it.
 */
export const HANDLER_BUNDLE = {
  // Everything in the bundle, the AWS SDK included: the versions we test are the versions that run. Only tsx
  // stays out: local mode loads user modules by path through it, a function never does.
  externalModules: ['tsx'],
  // CommonJS: where `import.meta.url` is undefined, which the code a function loads allows for.
  format: 'cjs',
  target: 'node20',
  sourceMap: true,
  minify: false,
} as const;

/** Where the built package holds each handler's pre-bundled code, relative to `dist/`: `lambda/<handler>/`. */
export const SHIPPED_HANDLERS_DIR = 'lambda';

/** The bundle's file in a handler's folder. */
export const BUNDLE_FILE = 'index.js';

/** The Lambda handler of a pre-bundled function: the export `handler` of {@link BUNDLE_FILE}. */
export const BUNDLE_HANDLER = 'index.handler';
