// `npm run build`: the package as plain JavaScript and type declarations in dist/, so that an installed Sluice
// runs on Node without a TypeScript loader. tsc compiles lib/, functions/ and infra/ file by file (the layout
// stays, so `new URL('./taskWorker.mjs', import.meta.url)` and the like still find their files); then the files
// tsc does not emit are copied (the .mjs entries, the generated schema validators and their types, the UI's
// static files); then the sources' extensionless relative imports (`'./Dataset'`, which the Bundler resolution of
// tsconfig.json allows) get the `.js` or `/index.js` that Node's ES module loader requires. Last, esbuild bundles
// each Lambda handler of functions/ into dist/lambda/<handler>/index.js, as the CDK bundles it in a checkout, so
// that a stack constructed from the installed package (`sluice/cdk`) deploys without a bundler.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');

function filesUnder(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

rmSync(dist, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });

const assets = filesUnder(join(root, 'lib')).filter(
  (path) => /\.(mjs|d\.mts|json)$/.test(path) || path.includes(`${join('lib', 'ui', 'static')}/`),
);
for (const path of assets) cpSync(path, join(dist, relative(root, path)));

// `from './x'`, `import './x'`, `import('./x')` (also the inline type imports of declarations), and the module
// augmentations of declarations (`declare module './DStream'`), which a consumer's resolution must find too.
// A specifier may name a folder itself (`'..'`, which tsc writes in declarations for a type re-exported by an index).
const specifierRe =
  /(\bfrom\s+|\bimport\s+|\bimport\(\s*|\bdeclare module\s+)(['"])(\.{1,2}(?:\/[^'"]*)?)\2/g;
for (const file of filesUnder(dist).filter((path) => /\.(js|d\.ts)$/.test(path))) {
  const text = readFileSync(file, 'utf8');
  const rewritten = text.replace(specifierRe, (whole, lead, quote, specWithQuery) => {
    // A query names another instance of the same module (`StageCode`'s copies): the file gets the extension and
    // the query stays after it.
    const [spec, query] = specWithQuery.split('?', 2);
    const suffix = query === undefined ? '' : `?${query}`;
    if (/\.(m?js|json)$/.test(spec)) return whole;
    const target = resolve(dirname(file), spec);
    if (existsSync(`${target}.js`)) return `${lead}${quote}${spec}.js${suffix}${quote}`;
    if (existsSync(join(target, 'index.js'))) return `${lead}${quote}${spec}/index.js${suffix}${quote}`;
    throw new Error(`${relative(root, file)} imports ${spec}, which the build did not emit`);
  });
  if (rewritten !== text) writeFileSync(file, rewritten);
}

// After the rewriting above, which must not touch a bundle's contents. The settings are infra/handlerBundle.ts's,
// those the stack bundles with in a checkout.
const { HANDLER_BUNDLE, SHIPPED_HANDLERS_DIR, BUNDLE_FILE } = await import(
  pathToFileURL(join(dist, 'infra', 'handlerBundle.js')).href
);
const esbuild = await import('esbuild');
for (const source of readdirSync(join(root, 'functions')).filter((name) => name.endsWith('.ts'))) {
  const handler = source.replace(/\.ts$/, '');
  await esbuild.build({
    entryPoints: [join(root, 'functions', source)],
    outfile: join(dist, SHIPPED_HANDLERS_DIR, handler, BUNDLE_FILE),
    bundle: true,
    platform: 'node',
    format: HANDLER_BUNDLE.format,
    target: HANDLER_BUNDLE.target,
    sourcemap: HANDLER_BUNDLE.sourceMap,
    minify: HANDLER_BUNDLE.minify,
    external: [...HANDLER_BUNDLE.externalModules],
    logLevel: 'warning',
    // lib/job/importModuleFile.ts reads `import.meta.url` knowing it is empty in a bundle (CommonJS output).
    logOverride: { 'empty-import-meta': 'silent' },
  });
}
console.log(`built ${relative(root, dist)}/: ${filesUnder(dist).length} files`);
