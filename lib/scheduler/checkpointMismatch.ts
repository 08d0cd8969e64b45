import type { DStream } from '../dstream/DStream';
import type { DStreamGraph } from '../dstream/DStreamGraph';
import { InputDStream } from '../dstream/InputDStream';
import { sourceKindWords } from '../source/sourceKindWords';
import type { CheckpointData } from './CheckpointData';

/**
 * Why a job's stream graph cannot resume a metadata checkpoint, completing "a checkpoint of job … ", or undefined
 * when it can. Functions may change; the shape (stream ids, kinds, slides) may not, nor the settings a state or an
 * incremental window was checkpointed with: read back under 2 partitions, a state checkpointed in 3 partitions
 * lost the keys of the third and met new records in the wrong partition (each such key twice, its count started
 * over), and a window of 3 s resumed as one of 5 s kept its 3 s values for good. Nor may a source whose position
 * the checkpoint keeps become one of another kind, which could not read it, or read another folder, bucket or stream,
 * where the names it took in the old one skipped the same names unread. Nor may a generator, which makes a batch
 * again from its time, make it from other settings while a state or an incremental window carries its batches over,
 * nor a generator or a queue that took its records under a rate cap lose the cap, which would skip what it held back.
 * Spark restores the old folder from its checkpoint and reads on there whatever the new code says; a refusal tells
 * the user instead.
 */
export function checkpointMismatch(checkpoint: CheckpointData, graph: DStreamGraph): string | undefined {
  if (checkpoint.graphSignature !== graph.signature()) {
    return `whose stream graph has another shape (${shapeDifference(checkpoint.graphSignature, graph)})`;
  }
  // A checkpoint written before the settings were recorded resumes on its shape alone.
  const before = new Map(Object.entries(checkpoint.resumeSettings ?? {}));
  const positions = new Map(Object.entries(checkpoint.sources));
  for (const [id, now] of Object.entries(graph.resumeSettings())) {
    const stored = before.get(id);
    if (stored === undefined || stored === now) continue;
    const then = inCurrentWords(stored);
    if (then === now) continue;
    const stream = graph.node(id);
    // A checkpoint written before sources recorded where they read (`a textFileStream source`), or what a generator made
    // its batches from, resumes on the kind.
    if (
      stream instanceof InputDStream &&
      (now.startsWith(`${then} reading `) || now.startsWith(`${then} making `))
    )
      continue;
    const named = `${stream?.origin ?? stream?.name ?? id}`;
    if (stream instanceof InputDStream) {
      if (!positions.has(id)) {
        // A source that took its batches by time may change, unless a stream carries its batches across the
        // restart: a generator made at 30/s what the batches before it had at 20/s, and an incremental window then
        // subtracted 30 records a batch where it had added 20, its count short of the truth for good.
        const carrier = stream.replaysByBatchTime ? carriedBy(graph, stream) : undefined;
        const change = settingsChange(then, now);
        if (carrier === undefined || change === undefined) continue;
        return (
          `whose ${named} ${change}: ${carrier.origin ?? carrier.name} ` +
          'carries batches made under the old settings across the restart, and would meet those it reads again made ' +
          'under the new ones (set them back to resume)'
        );
      }
      return (
        `whose ${named} was ${kindOf(then)}, where the job now makes it ${kindOf(now)}: the checkpoint keeps how far the old ` +
        'source was read, which the new one cannot take up (set it back to resume)'
      );
    }
    return (
      `whose ${named} has ${then}, where the job now gives it ${now}: its checkpointed state was computed under ` +
      'the old ones and cannot carry over (set them back to resume)'
    );
  }
  for (const input of graph.inputs) {
    // A generator's or a queue's position is how far a rate cap let batches take; without the cap they take by batch
    // time, from where time is, and skipped what the cap held back (a queue's batches 2 and 3, 3 generated records).
    // A cap that had held nothing back (the source had taken all that arrived) leaves nothing to skip; a position
    // that does not say (written before sources recorded it) is taken as having held some back.
    const position = positions.get(input.id);
    if (
      positions.has(input.id) &&
      input.replaysByBatchTime &&
      input.source.heldBackAt?.(position) !== false
    ) {
      return (
        `whose ${input.origin ?? input.name} took its records under a rate cap (maxRatePerSec, or backpressure), ` +
        'where the job now takes them by batch time without one: what the cap held back would be skipped (set the ' +
        'cap back to resume)'
      );
    }
  }
  return undefined;
}

/**
 * Sources as older checkpoints name them, and as they do now: kinds named from the description before sources named
 * their kind (`textFile(/data/in)`), and now the way a JSON job's `type` does (`textFile` is a static dataset's), and
 * an s3Prefix source with the article it lacked. The settings are compared as text, so a checkpoint in the old words
 * would otherwise refuse the very same folder or bucket.
 */
const OLD_WORDS = [
  ['a textFile source', sourceKindWords('textFileStream')],
  ['a s3 source', sourceKindWords('s3Prefix')],
  ['a s3Prefix source', sourceKindWords('s3Prefix')],
] as const;

/** A source's resume settings in today's words (`a textFileStream source reading /data/in` for `a textFile source …`). */
function inCurrentWords(settings: string): string {
  for (const [old, current] of OLD_WORDS) {
    if (settings === old || settings.startsWith(`${old} `)) return `${current}${settings.slice(old.length)}`;
  }
  return settings;
}

/**
 * A stream fed by `input` whose result carries over a restart (one with `resumeSettings`: a state, an incremental
 * window), or undefined when none is.
 */
function carriedBy(graph: DStreamGraph, input: InputDStream<unknown>): DStream<unknown> | undefined {
  for (const id of Object.keys(graph.resumeSettings())) {
    const stream = graph.node(id);
    if (stream === undefined || stream instanceof InputDStream) continue;
    if (graph.upstreamOf([stream]).has(input)) return stream;
  }
  return undefined;
}

/**
 * How a generator's settings changed, naming only the fields that differ (`made its batches with ratePerSec 5000,
 * where the job now gives ratePerSec 3000`): the whole of both, up to six fields each, left the user to find the one
 * edited. Settings that are not two JSON objects are given whole. Undefined when none of the fields the source now
 * makes its records from differs: a checkpoint may record more (one written when a generator recorded all its
 * options), and those its records do not depend on change nothing.
 */
function settingsChange(then: string, now: string): string | undefined {
  const whole = `was ${then}, where the job now makes it ${now}`;
  const [thenMaking, nowMaking] = [makingOf(then), makingOf(now)];
  if (thenMaking === undefined || nowMaking === undefined) return whole;
  const fields = Object.keys(nowMaking).filter(
    (field) => JSON.stringify(thenMaking[field]) !== JSON.stringify(nowMaking[field]),
  );
  if (fields.length === 0) return undefined;
  const list = (making: Record<string, unknown>) =>
    fields.map((field) => `${field} ${JSON.stringify(making[field]) ?? 'unset'}`).join(', ');
  return `made its batches with ${list(thenMaking)}, where the job now gives ${list(nowMaking)}`;
}

/** The settings object after ` making ` in a source's resume settings, or undefined when there is none. */
function makingOf(settings: string): Record<string, unknown> | undefined {
  const at = settings.indexOf(' making ');
  if (at === -1) return undefined;
  try {
    const making: unknown = JSON.parse(settings.slice(at + ' making '.length));
    return typeof making === 'object' && making !== null && !Array.isArray(making)
      ? (making as Record<string, unknown>) // checked just above: a plain object
      : undefined;
  } catch {
    return undefined; // not JSON: the settings are given whole
  }
}

/** A source's resume settings without what a generator makes its batches from, which a position does not care for. */
function kindOf(settings: string): string {
  return settings.split(' making ')[0]!; // split gives at least one part
}

/**
 * How the graph's shape differs from the checkpoint's signature (`n1:QueueInputDStream:1000,…`, see
 * `DStreamGraph.signature`): how many streams each has, and the first stream that differs, named. "Another shape"
 * alone left a user who had added a print output looking for a change among the streams. An op inserted early may
 * shift the first difference further down the graph, so the counts come first.
 */
function shapeDifference(signature: string, graph: DStreamGraph): string {
  const then = signature.split(',');
  const now = graph.signature().split(',');
  const counts =
    then.length === now.length
      ? ''
      : `the job now has ${now.length} streams and outputs, where the checkpoint's graph has ${then.length}; `;
  const at = then.findIndex((node, i) => node !== now[i]);
  const i = at === -1 ? then.length : at;
  const stream = graph.node(`n${i + 1}`);
  const named = `${stream?.origin ?? stream?.name ?? `n${i + 1}`}`;
  const [, thenKind, thenSlide] = (then[i] ?? '').split(':');
  const [, nowKind, nowSlide] = (now[i] ?? '').split(':');
  if (nowKind === undefined)
    return `${counts}it has nothing in place of the checkpoint's n${i + 1}, ${kindName(thenKind)}`;
  if (thenKind === undefined)
    return `${counts}${named}, ${kindName(nowKind)}, is new (an output added counts too)`;
  const first = `the first to differ is ${named}`;
  if (thenKind !== nowKind)
    return `${counts}${first}, now ${kindName(nowKind)} where the checkpoint's graph has ${kindName(thenKind)}`;
  return `${counts}${first}, now sliding every ${nowSlide} ms where the checkpoint's graph slides every ${thenSlide} ms`;
}

/** A stream class's name as the message says it, with its article: `an output` for a `ForEachDStream`. */
function kindName(className: string | undefined): string {
  return className === 'ForEachDStream' ? 'an output' : `a ${className}`;
}
