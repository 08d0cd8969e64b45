import { randomUUID } from 'node:crypto';

/**
 * A worker's answer as JSON that keeps Infinity, -Infinity and NaN. JSON writes them as null, so on Lambda the
 * records an action took (`collect`, `take`, `top`, `max`) reached the coordinator as nulls where local mode,
 * whose tasks hand over JS values, kept the numbers. An answer holding one writes each as a string made of a token
 * drawn for that answer and the number's name, and names the token in `nonFiniteToken`, which
 * {@link parseTaskAnswer} reads back; an answer without one is plain JSON, as before.
 */

/** The answer's field that names the token of its non-finite numbers. */
const TOKEN_FIELD = 'nonFiniteToken';
const NAMES = new Set(['Infinity', '-Infinity', 'NaN']);

/**
 * The JSON text of `answer` and the value to answer with: `answer` itself, or, when it holds a non-finite number,
 * the encoded answer (which the Lambda runtime writes as the same text).
 */
export function encodeTaskAnswer<T extends object>(answer: T): { readonly json: string; readonly body: T } {
  const json = JSON.stringify(answer);
  // JSON writes a non-finite number as null: an answer without a null holds none, and costs no second pass.
  if (!json.includes('null')) return { json, body: answer };
  const token = `\u0000nonfinite:${randomUUID()}:`;
  let found = false;
  const encoded = JSON.stringify({ ...answer, [TOKEN_FIELD]: token }, (_key, value) => {
    if (typeof value !== 'number' || Number.isFinite(value)) return value;
    found = true;
    return `${token}${String(value)}`;
  });
  // as T: the answer's shape, its non-finite numbers strings until parseTaskAnswer reads them back
  return found ? { json: encoded, body: JSON.parse(encoded) as T } : { json, body: answer };
}

/** Reads an answer's JSON text, its non-finite numbers restored where {@link encodeTaskAnswer} encoded them. */
export function parseTaskAnswer(text: string): unknown {
  const answer: unknown = JSON.parse(text);
  const token = (answer as Record<string, unknown> | null)?.[TOKEN_FIELD];
  if (typeof token !== 'string') return answer;
  const { [TOKEN_FIELD]: _token, ...decoded } = JSON.parse(text, (_key, value) =>
    typeof value === 'string' && value.startsWith(token) && NAMES.has(value.slice(token.length))
      ? Number(value.slice(token.length))
      : value,
  ) as Record<string, unknown>;
  return decoded;
}
