import { existsSync, readFileSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** TypeScript extensions whose module format follows the surrounding package's `type`, as `.js` does. */
const PACKAGE_TYPED_TS = new Set(['.ts', '.tsx']);

/**
 * Imports a user's module (a job module or a `functions` module) from an absolute file path, whatever the
 * surrounding package's `type` is, and returns its exports. A `.ts` file outside a `"type": "module"` package is
 * CommonJS to Node; importing it through the loader the CLI registers fails with `ERR_REQUIRE_CYCLE_MODULE` as
 * soon as it imports an ES module, so such a file is loaded through tsx's own import with its format explicit,
 * and the `module.exports` object it yields is unwrapped. Everything else is a plain `import()`, which keeps the
 * module instances the caller shares (a `HashPartitioner` from the job is the engine's own).
 *
 * Only local mode loads modules by path: the Lambda functions look deployed modules up by name
 * (`DeployedModules`), and their bundles leave `tsx` out.
 */
export async function importModuleFile(file: string): Promise<Record<string, unknown>> {
  if (!(PACKAGE_TYPED_TS.has(extname(file)) && packageTypeOf(file) !== 'module')) {
    if (TS_EXTENSIONS.has(extname(file))) await registerTypeScriptLoader();
    return (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  }
  // Loaded on demand, and only here: tsx is a development-time loader that no Lambda bundle carries.
  const { tsImport } = await import('tsx/esm/api');
  const namespace = (await tsImport(pathToFileURL(file).href, import.meta.url)) as Record<string, unknown>;
  // A CommonJS module's namespace is `{ default: module.exports }`; its exports are what the file exported.
  const exports = namespace.default;
  return typeof exports === 'object' && exports !== null ? { ...(exports as object) } : namespace;
}

/** Extensions Node cannot import without a TypeScript loader. */
const TS_EXTENSIONS = new Set(['.ts', '.tsx', '.mts', '.cts']);

/**
 * Whether tsx's loader is in place. Running from TypeScript (a checkout, whose entries register it, or vitest),
 * it is; the built package runs as plain JavaScript (this file is `importModuleFile.js`), and registers it the
 * first time a TypeScript job module is imported, so that JavaScript users never load tsx.
 */
// In a Lambda bundle (esbuild's CommonJS output) `import.meta.url` is undefined; a bundle holds its job modules
// already, so it never imports a TypeScript file at run time and needs no loader either.
let typeScriptLoader = !(import.meta.url ?? '').endsWith('.js');

async function registerTypeScriptLoader(): Promise<void> {
  if (typeScriptLoader) return;
  typeScriptLoader = true;
  const { register } = await import('tsx/esm/api');
  register();
}

/** The `type` of the package a file belongs to (its nearest `package.json`); `commonjs` when there is none. */
export function packageTypeOf(file: string): 'module' | 'commonjs' {
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        return (JSON.parse(readFileSync(manifest, 'utf8')) as { type?: unknown }).type === 'module'
          ? 'module'
          : 'commonjs';
      } catch {
        // Node itself refuses a malformed package.json; let the import report it.
        return 'module';
      }
    }
    if (dirname(dir) === dir) return 'commonjs';
  }
}
