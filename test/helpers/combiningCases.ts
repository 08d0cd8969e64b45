import type { ShuffleOptions } from '../../lib/shuffle/ShuffleOptions';
import type { OperatorCase } from './operatorCase';
import { cases } from './operatorCases';
import { stateCases } from './stateCases';
import { windowCases } from './windowCases';

/** Every map output goes through storage, so the merge step has something to merge even in tiny tables. */
const stored = { inlineMaxBytes: 0 } as const;

/** Every operator table that shuffles, with the job's shuffle settings replaced. */
function withShuffle(shuffle: ShuffleOptions) {
  const each = <C extends Record<string, OperatorCase>>(table: C) =>
    Object.fromEntries(
      Object.entries(table).map(([name, c]) => [name, { ...c, options: { ...c.options, shuffle } }]),
    ) as C;
  return { cases: each(cases), windowCases: each(windowCases), stateCases: each(stateCases) };
}

/** The tables with the combining shuffle forced on. */
export const combining = withShuffle({ ...stored, combine: 'always' });
/** The same tables read directly, to compare with record for record. */
export const direct = withShuffle({ ...stored, combine: 'never' });
