import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * What the folder-source recovery tests read back from a run's working folder (see `test/fixtures/folderProducer.ts`
 * for what the jobs' producer drops into `in/`).
 */

/**
 * The run's dead letters, sorted, without the dataset's label: the label holds the dataset's number, which depends
 * on what the process built before.
 */
export async function deadLetters(dir: string): Promise<string[]> {
  const text = await readFile(join(dir, 'store/dead-letter.jsonl'), 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const { dataset: _label, ...letter } = JSON.parse(line) as Record<string, unknown>;
      return JSON.stringify(letter);
    })
    .sort();
}

/** The lines of the files the producer dropped into `in/`: all of them, and the malformed ones. */
export async function droppedLines(dir: string): Promise<{ lines: number; malformed: number }> {
  let lines = 0;
  let malformed = 0;
  for (const name of await readdir(join(dir, 'in'))) {
    const text = (await readFile(join(dir, 'in', name), 'utf8')).split('\n').filter(Boolean);
    lines += text.length;
    malformed += text.filter((l) => l.endsWith(' oops')).length;
  }
  return { lines, malformed };
}
