import { isAbsolute, relative, sep } from 'node:path';
import type { JobIssue } from '../errors';
import { isAtOrInside, OutputPlace } from '../job/OutputPlace';

/**
 * The outputs of a job document that would write into the store folder, or around it, once `--out` and `--store`
 * are known: the default `--out .` holds the default store `.sluice/<name>/`, and a `jsonl` path such as
 * `.sluice/<name>/checkpoint/metadata.json` validated, then its lines were overwritten (or deleted by `--fresh`)
 * and lost. An output whose file the store would lie inside is refused too: the store could not be created.
 */
export function outputsInStoreIssues(
  doc: Record<string, unknown>,
  outputDir: string,
  storeDir: string,
): JobIssue[] {
  const store = relative(outputDir, storeDir).split(sep).join('/');
  // Outputs stay inside the output folder (validation refuses any other path), so a store outside it is safe.
  if (store === '..' || store.startsWith('../') || isAbsolute(store)) return [];
  const issues: JobIssue[] = [];
  for (const place of OutputPlace.ofDocument(doc)) {
    if (isAtOrInside(place.sample, store)) {
      issues.push({
        path: place.jsonPath,
        message:
          `writes inside the store folder ${storeDir}, where Sluice keeps the job's blocks, checkpoint and ` +
          'lock (and --fresh deletes everything): its output would be lost; give it a path outside the store, ' +
          'or give the run another --out or --store',
        value: place.written,
      });
    } else if (place.contains(store)) {
      issues.push({
        path: place.jsonPath,
        message:
          `writes a file where the store folder ${storeDir} must be a folder; give it another path, or give ` +
          'the run another --store',
        value: place.written,
      });
    }
  }
  return issues;
}
