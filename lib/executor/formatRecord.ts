import type { ValueShape } from './ValueShape';

/**
 * How `print` and `saveAsTextFiles` show a record, close to Spark's toString: a `[key, value]` pair prints as
 * `(key,value)`, a string as itself, a number as Spark prints a double (`Infinity`, `NaN`), undefined as `null`,
 * anything else as JSON. A record that cannot be shown (nested thousands of levels deep, a BigInt, a cycle) prints
 * as `<unprintable record: reason>`: printing must not fail the batch, or its task on every retry.
 */
export function formatRecord(record: unknown): string {
  return formatRecordOf(record, 'plain');
}

/**
 * `formatRecord` for a stream whose pair values have a shape (`DStream.valueShape`): a group prints as Spark's
 * `CompactBuffer` does, `(k,CompactBuffer(1, 2))`, where a group of two would otherwise print as a pair, `(k,(1,2))`;
 * an outer join's side as Spark's `Option`, `(k,(1,Some(2)))` or `(k,(1,None))`, where it would print the bare value
 * or `null`. A value that is not what its shape says (a record a function of yours made) prints as it is.
 */
export function formatRecordOf(record: unknown, valueShape: ValueShape): string {
  try {
    if (valueShape !== 'plain' && Array.isArray(record) && record.length === 2) {
      return `(${format(record[0])},${formatAs(record[1], valueShape)})`;
    }
    return format(record);
  } catch (error) {
    return `<unprintable record: ${error instanceof Error ? error.message : String(error)}>`;
  }
}

/** A value as Spark prints the Scala value its shape says it is. */
function formatAs(value: unknown, shape: ValueShape): string {
  if (shape === 'plain') return format(value);
  if ('option' in shape) {
    // A join's missing side is null, which undefined also becomes once the record crossed JSON.
    return value === null || value === undefined ? 'None' : `Some(${formatAs(value, shape.option)})`;
  }
  if (!Array.isArray(value)) return format(value);
  // A group as Spark's CompactBuffer prints (a Scala Seq's toString): its values, comma and space between.
  if ('group' in shape) return `CompactBuffer(${value.map((v) => formatAs(v, shape.group)).join(', ')})`;
  if (value.length !== shape.tuple.length) return format(value);
  return `(${value.map((v, i) => formatAs(v, shape.tuple[i]!)).join(',')})`; // !: i < value.length, the tuple's
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
