/**
 * What a stream's pair values are, when they are groups (see `DStream.valueShape`): `group`, the values of one key
 * (`groupByKey`), which Spark prints as `CompactBuffer(1, 2)`; `cogroup`, one such group per stream cogrouped.
 */
export type ValueShape = 'group' | 'cogroup';

/**
 * How `print` and `saveAsTextFiles` show a record, close to Spark's toString: a `[key, value]` pair prints as
 * `(key,value)`, a string as itself, a number as Spark prints a double (`Infinity`, `NaN`), undefined as `null`,
 * anything else as JSON. A record that cannot be shown (nested thousands of levels deep, a BigInt, a cycle) prints
 * as `<unprintable record: reason>`: printing must not fail the batch, or its task on every retry.
 */
export function formatRecord(record: unknown): string {
  return formatRecordOf(record, undefined);
}

/**
 * `formatRecord` for a stream whose pair values are groups (`valueShape`): a group prints as Spark's `CompactBuffer`
 * does, `(k,CompactBuffer(1, 2))`, where a group of two would otherwise print as a pair, `(k,(1,2))`.
 */
export function formatRecordOf(record: unknown, valueShape: ValueShape | undefined): string {
  try {
    if (
      valueShape !== undefined &&
      Array.isArray(record) &&
      record.length === 2 &&
      Array.isArray(record[1])
    ) {
      const value: unknown[] = record[1];
      const shown =
        valueShape === 'group'
          ? compactBuffer(value)
          : `(${value.map((group) => (Array.isArray(group) ? compactBuffer(group) : format(group))).join(',')})`;
      return `(${format(record[0])},${shown})`;
    }
    return format(record);
  } catch (error) {
    return `<unprintable record: ${error instanceof Error ? error.message : String(error)}>`;
  }
}

/** A group as Spark's CompactBuffer prints (a Scala Seq's toString): its values, comma and space between. */
function compactBuffer(values: readonly unknown[]): string {
  return `CompactBuffer(${values.map(format).join(', ')})`;
}

function format(record: unknown): string {
  if (typeof record === 'string') return record;
  // Infinity, -Infinity and NaN by name, where JSON writes null: a division or an overflow in a function of the
  // user's gives them as a record or a pair's value. Inside an object or a longer array they stay JSON's null.
  if (typeof record === 'number') return String(record);
  if (Array.isArray(record) && record.length === 2) return `(${format(record[0])},${format(record[1])})`;
  // JSON's null, which undefined becomes wherever a record crosses JSON (a shuffle, a Lambda's answer).
  if (record === undefined) return 'null';
  return JSON.stringify(record);
}
