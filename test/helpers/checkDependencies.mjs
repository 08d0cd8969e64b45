// The dependency rule of the codebase, checked by `npm run lint`:
//  - the engine (lib/, outside lib/aws/) never imports the AWS SDK, the CDK or infra/, nor functions/ (except the
//    development Lambda host in lib/devhost/, whose job is to serve the handlers of functions/);
//  - lib/aws/ never imports the CDK either (infra/ imports lib/aws/bucketLayout, never the reverse), nor the
//    local runtime (lib/local/) or the development host (lib/devhost/);
//  - the engine core (lib/ outside lib/local/, lib/devhost/ and lib/aws/) never imports lib/local/ or lib/devhost/;
//  - the package's entry (lib/index.ts, `import 'sluice'`) may export the local runtime, but never imports lib/aws/
//    or lib/devhost/: importing the package must not load the AWS SDK or the development host;
//  - no import cycles between files of lib/ (type-only imports excepted, they vanish at runtime).
// An import is a static `import`/`export ... from`, a dynamic `import('...')`, or a file a module loads by
// `new URL('...', import.meta.url)` (a worker thread's or a child process's entry, a folder of handlers).
// Usage: node test/helpers/checkDependencies.mjs [root]   (root: the repository, by default this one)
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = process.argv[2]
  ? resolve(process.argv[2])
  : resolve(dirname(new URL(import.meta.url).pathname), '..', '..');
const files = [];
(function walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (/\.(ts|mjs)$/.test(name)) files.push(path);
  }
})(join(root, 'lib'));

const problems = [];
const graph = new Map();
// Static imports and re-exports (m[2]: type-only; m[3] or m[4]: the specifier); dynamic `import('...')` (m[5]);
// `new URL('...', import.meta.url)` (m[6]). Dynamic and URL loads are not module-graph edges for the cycle check.
const importRe =
  /^\s*(import|export)\s+(type\s+)?[^'"]*?from\s+['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)|\bnew URL\(\s*['"]([^'"]+)['"]\s*,\s*import\.meta\.url\s*\)/gm;
for (const file of files) {
  const rel = relative(root, file);
  const text = readFileSync(file, 'utf8');
  const edges = [];
  for (const m of text.matchAll(importRe)) {
    const typeOnly = Boolean(m[2]);
    const spec = m[3] ?? m[4] ?? m[5] ?? m[6];
    const dynamic = Boolean(m[5] ?? m[6]);
    const inAws = rel.startsWith('lib/aws/');
    const inDevhost = rel.startsWith('lib/devhost/');
    if (!inAws && /^(@aws-sdk|@aws-lambda-powertools|aws-cdk-lib|constructs)/.test(spec))
      problems.push(`${rel} imports ${spec}: the engine stays free of AWS`);
    if (inAws && /^(aws-cdk-lib|constructs)/.test(spec))
      problems.push(`${rel} imports ${spec}: the runtime never loads the CDK, which only infra/ uses`);
    if (!spec.startsWith('.')) continue;
    const target = relative(root, resolve(dirname(file), spec));
    if (/^infra(\/|$)/.test(target) || (!inDevhost && /^functions(\/|$)/.test(target)))
      problems.push(`${rel} imports ${target}: the engine must not depend on ${target.split('/')[0]}/`);
    if (inAws && /^lib\/(local|devhost)\//.test(target))
      problems.push(
        `${rel} imports ${target}: the serverless runtime must not depend on ${target.split('/', 2).join('/')}/`,
      );
    const entry = rel === 'lib/index.ts';
    if (entry && /^lib\/(aws|devhost)\//.test(target))
      problems.push(
        `${rel} imports ${target}: the package's entry must not load ${target.split('/', 2).join('/')}/`,
      );
    const core = !rel.startsWith('lib/local/') && !inDevhost && !inAws && !entry;
    if (core && target.startsWith('lib/local/'))
      problems.push(`${rel} imports ${target}: the engine core must not depend on the local runtime`);
    if (core && target.startsWith('lib/devhost/'))
      problems.push(
        `${rel} imports ${target}: the engine core must not depend on the development Lambda host`,
      );
    if (!typeOnly && !dynamic) edges.push(target.replace(/\.(ts|mjs)$/, ''));
  }
  graph.set(rel.replace(/\.(ts|mjs)$/, ''), edges);
}

// Cycle detection with an explicit stack (depth-first, three colours).
const colour = new Map();
for (const start of graph.keys()) {
  if (colour.has(start)) continue;
  const stack = [[start, 0]];
  const path = [start];
  colour.set(start, 'grey');
  while (stack.length) {
    const top = stack[stack.length - 1];
    const edges = graph.get(top[0]) ?? [];
    if (top[1] >= edges.length) {
      colour.set(top[0], 'black');
      stack.pop();
      path.pop();
      continue;
    }
    const next = edges[top[1]++];
    if (!graph.has(next)) continue;
    if (colour.get(next) === 'grey') {
      problems.push(`import cycle: ${[...path.slice(path.indexOf(next)), next].join(' -> ')}`);
    } else if (!colour.has(next)) {
      colour.set(next, 'grey');
      stack.push([next, 0]);
      path.push(next);
    }
  }
}

if (problems.length) {
  console.error(`Dependency rule broken:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(`dependency rule holds for ${files.length} files`);
