import { readFileSync } from 'node:fs';

/**
 * This package's version, from its `package.json`: two folders above this file in a checkout (`lib/local/`),
 * three in the built package (`dist/lib/local/`). Read at run time rather than imported, because a JSON import
 * would put package.json inside dist/ and tie the build's layout to it.
 */
export function packageVersion(): string {
  for (const up of ['../../package.json', '../../../package.json']) {
    try {
      const manifest = JSON.parse(readFileSync(new URL(up, import.meta.url), 'utf8')) as {
        name?: unknown;
        version?: unknown;
      };
      if (manifest.name === 'sluice' && typeof manifest.version === 'string') return manifest.version;
    } catch {
      // Not there, or not this package's: look one folder up.
    }
  }
  throw new Error(`sluice cannot find its package.json above ${new URL('.', import.meta.url).pathname}`);
}
