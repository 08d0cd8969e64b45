// Every test file belongs to exactly one vitest project (`unit`, `slow`, `integration`, see vitest.config.ts), so
// that `npm test` runs each file once and no file falls between the projects' globs.
// Usage: node test/helpers/checkTestProjects.mjs   (prints the files per project; exits 1 on a file in none or two)
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const projects = ['unit', 'slow', 'integration'];
const vitest = createRequire(import.meta.url).resolve('vitest/vitest.mjs');

function testFilesUnder(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'node_modules' ? [] : testFilesUnder(path);
    return name.endsWith('.test.ts') ? [relative(root, path)] : [];
  });
}

const owners = new Map(testFilesUnder(join(root, 'test')).map((file) => [file, []]));
for (const project of projects) {
  const listed = JSON.parse(
    execFileSync(process.execPath, [vitest, 'list', '--project', project, '--filesOnly', '--json'], {
      cwd: root,
      encoding: 'utf8',
    }),
  );
  console.log(`${project}: ${listed.length} files`);
  for (const { file } of listed) {
    const path = relative(root, file);
    if (!owners.has(path)) owners.set(path, []);
    owners.get(path).push(project);
  }
}
const wrong = [...owners].filter(([, projectsOf]) => projectsOf.length !== 1);
for (const [file, projectsOf] of wrong) {
  console.error(
    `${file} is in ${projectsOf.length === 0 ? 'no test project' : `the projects ${projectsOf.join(' and ')}`}`,
  );
}
if (wrong.length > 0) {
  console.error('give it exactly one project in vitest.config.ts');
  process.exit(1);
}
console.log(`${owners.size} test files, each in exactly one project`);
