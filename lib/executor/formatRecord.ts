/**
 * How `print` and `saveAsTextFiles` show a record, close to Spark's toString: a `[key, value]` pair prints as
 * `(key,value)`, a string as itself, anything else as JSON.
 */
export function formatRecord(record: unknown): string {
  if (typeof record === 'string') return record;
  if (Array.isArray(record) && record.length === 2)
    return `(${formatRecord(record[0])},${formatRecord(record[1])})`;
  if (record === undefined) return 'undefined';
  return JSON.stringify(record);
}
