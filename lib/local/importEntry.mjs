// The entries Node starts from plain JavaScript (the `sluice` command, a worker thread, a function's child
// process) load the module beside them: compiled JavaScript in the built package (`dist/`, where `npm run build`
// puts `cli.js` beside `sluice.mjs`), TypeScript in a checkout, through the TypeScript loader registered first.
// So an installed package runs on plain Node, and a checkout runs without a build.
import { existsSync } from 'node:fs';

/** Imports `<name>.js` beside `entryUrl` when it exists, else `<name>.ts` through tsx's loader. */
export async function importEntry(entryUrl, name) {
  const compiled = new URL(`./${name}.js`, entryUrl);
  if (existsSync(compiled)) return import(compiled.href);
  const { register } = await import('tsx/esm/api');
  register();
  return import(new URL(`./${name}.ts`, entryUrl).href);
}
