// `npm run build`: the package as plain JavaScript and type declarations in dist/, so that an installed Sluice
// runs on Node without a TypeScript loader. tsc compiles lib/ and functions/ file by file (the layout stays, so
// `new URL('./taskWorker.mjs', import.meta.url)` and the like still find their files); then the files tsc does not
// emit are copied (the .mjs entries, the generated schema validator and its types, the UI's static files); last,
// the sources' extensionless relative imports (`'./Dataset'`, which the Bundler resolution of tsconfig.json
// allows) get the `.js` or `/index.js` that Node's ES module loader requires.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

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
  const rewritten = text.replace(specifierRe, (whole, lead, quote, spec) => {
    if (/\.(m?js|json)$/.test(spec)) return whole;
    const target = resolve(dirname(file), spec);
    if (existsSync(`${target}.js`)) return `${lead}${quote}${spec}.js${quote}`;
    if (existsSync(join(target, 'index.js'))) return `${lead}${quote}${spec}/index.js${quote}`;
    throw new Error(`${relative(root, file)} imports ${spec}, which the build did not emit`);
  });
  if (rewritten !== text) writeFileSync(file, rewritten);
}
console.log(`built ${relative(root, dist)}/: ${filesUnder(dist).length} files`);
