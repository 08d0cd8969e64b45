import { BATCH_OPS } from './batchOps';
import { KEYED_OPS } from './keyedOps';
import type { OpEntry } from './OpEntry';
import { RECORD_OPS } from './recordOps';
import { STATE_OPS } from './stateOps';
import { WINDOW_OPS } from './windowOps';

/**
 * The README's ops tables, `| op | fields | Spark semantics |`, written from the catalogue by `npm run schema`
 * between marker comments, so a new entry gets its row with no hand edit. A row is an entry's names, its fields
 * (from `fields`, `required`, `expression` and `fieldNotes`) and its `spark` text; consecutive entries with the
 * same two cells share a row, as map, flatMap and filter do.
 */

/** The ops of each table, by the name its markers carry: the ops of "Streams and ops", then windows and state. */
export const OP_TABLES = {
  stream: [...RECORD_OPS, ...BATCH_OPS, ...KEYED_OPS],
  window: [...WINDOW_OPS, ...STATE_OPS],
} as const satisfies Record<string, readonly OpEntry<string, any>[]>;

/** The name of a README ops table. */
export type OpTableName = keyof typeof OP_TABLES;

/** The marker lines around a table in the README; what lies between them is replaced. */
export function opTableMarkers(table: OpTableName): { start: string; end: string } {
  return {
    start: `<!-- ops-table:${table}:start (written by \`npm run schema\` from lib/job/ops/: edit the entries there) -->`,
    end: `<!-- ops-table:${table}:end -->`,
  };
}

/** The markdown table of some entries, one line per row, without a trailing newline. */
export function opTable(entries: readonly OpEntry<string, any>[]): string {
  const rows: { names: string[]; fields: string; spark: string }[] = [];
  for (const entry of entries) {
    const fields = fieldsCell(entry);
    const spark = cell(entry.spark);
    const last = rows.at(-1);
    if (last !== undefined && last.fields === fields && last.spark === spark) last.names.push(entry.name);
    else rows.push({ names: [entry.name], fields, spark });
  }
  return [
    '| op | fields | Spark semantics |',
    '| --- | --- | --- |',
    ...rows.map((row) => `| ${row.names.map((n) => `\`${n}\``).join(', ')} | ${row.fields} | ${row.spark} |`),
  ].join('\n');
}

/** The table between a table's markers in a README text, without the markers. */
export function opTableIn(readme: string, table: OpTableName): string {
  const { start, end } = markerPositions(readme, table);
  return readme.slice(start, end).trim();
}

/** The README text with every table between its markers replaced by the catalogue's. */
export function withOpTables(readme: string): string {
  let text = readme;
  for (const table of Object.keys(OP_TABLES) as OpTableName[]) {
    const { start, end } = markerPositions(text, table);
    text = `${text.slice(0, start)}\n${opTable(OP_TABLES[table])}\n${text.slice(end)}`;
  }
  return text;
}

/** Where a table's text starts (after its start marker) and ends (at its end marker). */
function markerPositions(readme: string, table: OpTableName): { start: number; end: number } {
  const markers = opTableMarkers(table);
  const start = readme.indexOf(markers.start);
  const end = readme.indexOf(markers.end);
  if (start < 0 || end < start) {
    throw new Error(
      `README.md has no ${table} ops table between the lines ${markers.start} and ${markers.end}; put them back around the table`,
    );
  }
  return { start: start + markers.start.length, end };
}

/**
 * The fields column: each field with `?` when optional and its note; `args` after the `fn` it belongs to, and an
 * expression op's `fn` or `expr` as one choice.
 */
function fieldsCell(entry: OpEntry<string, any>): string {
  const names = Object.keys(entry.fields);
  const required = new Set<string>(entry.required ?? []);
  const notes: Record<string, string | undefined> = entry.fieldNotes ?? {};
  const expression = entry.expression === true;
  const parts: string[] = [];
  for (const name of names) {
    if (name === 'args' || (expression && name === 'expr')) continue;
    // An expression op needs one of fn and expr, so neither is optional on its own.
    const optional = !required.has(name) && !(expression && name === 'fn');
    let part = `\`${name}\`${optional ? '?' : ''}`;
    if (name === 'fn' && names.includes('args')) part += ' (+`args`)';
    if (name === 'fn' && expression) part += ' or `expr`';
    const note = notes[name];
    if (note !== undefined) part += ` (${cell(note)})`;
    parts.push(part);
  }
  return parts.length === 0 ? 'none' : parts.join(', ');
}

/** Text made safe for a table cell: a `|` would end the cell. */
function cell(text: string): string {
  return text.replaceAll('|', '\\|');
}
