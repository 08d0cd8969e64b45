/**
 * What the values of a stream's `[key, value]` records stand for in Spark's Scala types, so that `print` and
 * `saveAsTextFiles` show them as Spark's toString does (see `formatRecordOf`). The records themselves are plain JSON
 * (a group an array, a missing join side `null`), which cannot tell a group of two from a pair, or a missing side
 * from a value: the stream graph can, and says so here. Plain JSON itself, as it travels in a task's action.
 *
 * - `plain`: a value as it is (the default, and what any op whose function makes the values gives)
 * - `{ group }`: a key's values (`groupByKey`), Spark's `CompactBuffer(1, 2)`, each value of shape `group`
 * - `{ option }`: an outer join's side, Spark's `Some(2)`, or `None` where it is `null`
 * - `{ tuple }`: a join's `[v, w]` or a cogroup's `[vs, ws]`, Spark's `(v,w)`, each of its own shape
 */
export type ValueShape =
  | 'plain'
  | { readonly group: ValueShape }
  | { readonly option: ValueShape }
  | { readonly tuple: readonly ValueShape[] };

/** The ops on two keyed streams whose values' shape follows from their inputs'. */
export type KeyedPairOp =
  | 'join'
  | 'leftOuterJoin'
  | 'rightOuterJoin'
  | 'fullOuterJoin'
  | 'subtractByKey'
  | 'cogroup';

/**
 * The shape of the values `op` makes of values shaped `mine` and `other`, as Spark types them: `join` (V, W),
 * `leftOuterJoin` (V, Option[W]), `rightOuterJoin` (Option[V], W), `fullOuterJoin` (Option[V], Option[W]), `cogroup`
 * (Iterable[V], Iterable[W]); `subtractByKey` keeps `mine`. A join of plain values stays `plain`: it prints the same.
 */
export function keyedPairShape(op: KeyedPairOp, mine: ValueShape, other: ValueShape): ValueShape {
  switch (op) {
    case 'join':
      return mine === 'plain' && other === 'plain' ? 'plain' : { tuple: [mine, other] };
    case 'leftOuterJoin':
      return { tuple: [mine, { option: other }] };
    case 'rightOuterJoin':
      return { tuple: [{ option: mine }, other] };
    case 'fullOuterJoin':
      return { tuple: [{ option: mine }, { option: other }] };
    case 'subtractByKey':
      return mine;
    case 'cogroup':
      return { tuple: [{ group: mine }, { group: other }] };
  }
}

/** Whether two shapes are the same (a union of streams alike keeps theirs). */
export function sameShape(a: ValueShape, b: ValueShape): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
