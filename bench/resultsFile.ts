/**
 * What every bench script shares to write its report into `bench/RESULTS.md`: Markdown tables, and sections a
 * script rewrites in place. A report carries figures; how they are measured is written once, by hand, in the
 * Markdown (the "Method" sections of RESULTS.md and SPARK.md), never in the scripts' strings.
 */
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

/** `bench/RESULTS.md`. */
export const RESULTS_PATH = fileURLToPath(new URL('./RESULTS.md', import.meta.url));

/** A Markdown table: a header row, its rule, one row per entry; cells are written as they are given. */
export function table(headers: readonly string[], rows: readonly (readonly unknown[])[]): string[] {
  const line = (cells: readonly unknown[]) => `| ${cells.map(String).join(' | ')} |`;
  return [line(headers), `|${headers.map(() => '---').join('|')}|`, ...rows.map(line)];
}

/** The markers around a generated section: `<!-- bench:<id> -->` … `<!-- /bench:<id> -->`. */
export function sectionMarkers(id: string): { readonly begin: string; readonly end: string } {
  return { begin: `<!-- bench:${id} -->`, end: `<!-- /bench:${id} -->` };
}

/**
 * Replaces the text between the section's markers in `text` with `body`, or adds the marked section at the end
 * when `text` has no such markers; the hand-written text around the markers stays as it is.
 */
export function replaceSection(text: string, id: string, body: string): string {
  const { begin, end } = sectionMarkers(id);
  const section = `${begin}\n${body.endsWith('\n') ? body : `${body}\n`}${end}`;
  const from = text.indexOf(begin);
  const to = text.indexOf(end, from);
  if (from < 0 || to < 0) return `${text}${text === '' || text.endsWith('\n') ? '' : '\n'}\n${section}\n`;
  return text.slice(0, from) + section + text.slice(to + end.length);
}

/** Rewrites the generated section `id` of RESULTS.md (see `replaceSection`); a missing file is started. */
export async function writeSection(id: string, body: string, path = RESULTS_PATH): Promise<void> {
  let text = '';
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await writeFile(path, replaceSection(text, id, body));
}

/** Adds a section at the end of RESULTS.md, for the reports kept as a history of runs. */
export async function appendSection(text: string, path = RESULTS_PATH): Promise<void> {
  await appendFile(path, text);
}
