import { preview, SluiceError } from '../errors';
import type { BatchLimit } from './RateLimit';
import type { DirectSource } from './Source';

/** The kinds of records a {@link GeneratorSource} can make. */
export type GeneratorKind = 'tweets' | 'lines' | 'kv';

/** A synthetic tweet, for hashtag counts and spam-list joins. */
export interface Tweet {
  /** The record's global running index, unique within a stream. */
  readonly id: number;
  /** `user1`..`user<users>`, or `spammer1`..`spammer5` for about one tweet in twenty. */
  readonly user: string;
  /** A few lowercase words followed by zero to three hashtags such as `#spark`. */
  readonly text: string;
  /** A language code such as `en`, skewed towards English. */
  readonly lang: string;
}

/** A synthetic keyed measurement, for reduceByKey and windowed aggregations. */
export interface KeyValueRecord {
  /** `k1`..`k<keys>`, uniformly distributed. */
  readonly key: string;
  /** A small integer from 1 to 10. */
  readonly value: number;
  /** When the record arrived, in ms since the stream started; within its batch's (start, end]. */
  readonly ts: number;
}

/** The record type each kind produces. */
export interface GeneratedRecords {
  /** See {@link Tweet}. */
  tweets: Tweet;
  /** A line of exactly `lineBytes` ASCII bytes: lowercase words separated by single spaces. */
  lines: string;
  /** See {@link KeyValueRecord}. */
  kv: KeyValueRecord;
}

/** Settings of a {@link GeneratorSource}. */
export interface GeneratorSourceOptions<K extends GeneratorKind = GeneratorKind> {
  /** What to generate. */
  readonly kind: K;
  /** Records per second of stream time; any positive number, fractions allowed. */
  readonly ratePerSec: number;
  /** Selects the pseudo-random sequence; an integer. Default `1`. */
  readonly seed?: number;
  /** How many distinct non-spammer users, for tweets. Default `1000`. */
  readonly users?: number;
  /** Size of the hashtag pool, for tweets. Default `50`. */
  readonly hashtags?: number;
  /** How many distinct keys, for kv. Default `100`. */
  readonly keys?: number;
  /** Exact length of every line, in bytes, for lines. Default `100`. */
  readonly lineBytes?: number;
}

/**
 * A deterministic synthetic source for examples and benchmarks: tweets, text lines or key/value records at
 * a fixed rate of stream time.
 *
 * The batch ending at `t` holds the records with global index `i` in
 * `[floor(rate × (t − interval) / 1000), floor(rate × t / 1000))`, and record `i` is a pure function of the
 * seed, the options and `i` (a counter-based hash, not a stateful PRNG). So any batch can be regenerated on
 * its own, in any order, after a crash or on another machine, and yields the same records.
 *
 * @example
 * const source = new GeneratorSource({ kind: 'lines', ratePerSec: 100_000, lineBytes: 80 });
 * const lines = await source.recordsFor(1000, 1000); // 100 000 strings of 80 characters
 */
export class GeneratorSource<K extends GeneratorKind = GeneratorKind>
  implements DirectSource<GeneratedRecords[K]>
{
  /** Such as `generator(tweets, 1000/s, seed 1)`. */
  readonly description: string;
  /** Always true: a batch's records are a function of its batch time. */
  readonly replayable = true;
  /** The validated settings, defaults filled in. */
  readonly options: Readonly<Required<GeneratorSourceOptions<K>>>;
  private readonly generate: (index: number) => GeneratedRecords[K];
  /** Rate-limited: the index of the next record to hand out; undefined until a limited batch took one. */
  private nextIndex: number | undefined;

  /** Validates every option now so a bad job fails at build time, not at the first batch. */
  constructor(options: GeneratorSourceOptions<K>) {
    if (options === null || typeof options !== 'object') {
      throw new SluiceError(`GeneratorSource options must be an object, got ${show(options)}`);
    }
    const { kind, ratePerSec } = options;
    if (kind !== 'tweets' && kind !== 'lines' && kind !== 'kv') {
      throw new SluiceError(`GeneratorSource kind must be 'tweets', 'lines' or 'kv', got ${show(kind)}`);
    }
    if (typeof ratePerSec !== 'number' || !Number.isFinite(ratePerSec) || ratePerSec <= 0) {
      throw new SluiceError(`ratePerSec must be a positive number, got ${show(ratePerSec)}`);
    }
    const seed = options.seed ?? 1;
    if (typeof seed !== 'number' || !Number.isSafeInteger(seed)) {
      throw new SluiceError(`seed must be an integer, got ${show(seed)}`);
    }
    this.options = {
      kind,
      ratePerSec,
      seed,
      users: positiveInteger('users', options.users ?? 1000),
      hashtags: positiveInteger('hashtags', options.hashtags ?? 50),
      keys: positiveInteger('keys', options.keys ?? 100),
      lineBytes: positiveInteger('lineBytes', options.lineBytes ?? 100),
    };
    this.description = `generator(${kind}, ${ratePerSec}/s, seed ${seed})`;
    this.generate = makeGenerator(this.options) as (index: number) => GeneratedRecords[K]; // kind is K, checked above
  }

  /** Record number `index` of the stream (0-based, counted from the stream's start). */
  recordAt(index: number): GeneratedRecords[K] {
    if (!Number.isSafeInteger(index) || index < 0) {
      throw new SluiceError(`record index must be a non-negative integer, got ${show(index)}`);
    }
    return this.generate(index);
  }

  /** The JSON that rebuilds this generator in a task (see `DirectSource`). */
  get directSpec(): { kind: 'generator'; options: Readonly<Record<string, unknown>> } {
    return { kind: 'generator', options: this.options as unknown as Record<string, unknown> };
  }

  /** The record indexes of the batch ending at `batchTime`: those that arrived in (t − interval, t]. */
  indexRange(batchTime: number, intervalMs: number): { first: number; end: number } {
    const rate = this.options.ratePerSec;
    return {
      first: Math.max(0, Math.floor((rate * (batchTime - intervalMs)) / 1000)),
      end: Math.floor((rate * batchTime) / 1000),
    };
  }

  /**
   * Rate-limited: the indexes from where the previous batch stopped up to `limit.maxRecords()` further, but never
   * past what arrived by `batchTime`. The records over the limit are not dropped: they wait, and the batches that
   * follow take them first, in order.
   */
  takeRange(batchTime: number, intervalMs: number, limit: BatchLimit): { first: number; end: number } {
    const arrived = this.indexRange(batchTime, intervalMs);
    const first = this.nextIndex ?? arrived.first;
    const end = Math.max(first, Math.min(arrived.end, first + limit.maxRecords()));
    this.nextIndex = end;
    return { first, end };
  }

  /** Rate-limited: the index of the next record to hand out, for the metadata checkpoint; otherwise none. */
  checkpointPosition(): { nextIndex: number } | undefined {
    return this.nextIndex === undefined ? undefined : { nextIndex: this.nextIndex };
  }

  /** Continues a rate-limited stream from a {@link checkpointPosition}. */
  restorePosition(position: unknown): void {
    const nextIndex = (position as { nextIndex?: unknown } | null)?.nextIndex;
    if (!Number.isSafeInteger(nextIndex) || (nextIndex as number) < 0) {
      throw new SluiceError(
        `cannot restore ${this.description}: position.nextIndex must be a record index, got ${show(nextIndex)}`,
      );
    }
    this.nextIndex = nextIndex as number;
  }

  /** The records that arrived in (batchTime − intervalMs, batchTime] at `ratePerSec`. */
  async recordsFor(batchTime: number, intervalMs: number): Promise<GeneratedRecords[K][]> {
    const { first, end } = this.indexRange(batchTime, intervalMs);
    const records: GeneratedRecords[K][] = [];
    for (let index = first; index < end; index++) records.push(this.generate(index));
    return records;
  }
}

function positiveInteger(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new SluiceError(`${name} must be a positive integer, got ${show(value)}`);
  }
  return value;
}

// ---------------------------------------------------------------------------------------------------------
// Counter-based randomness: every record seeds its own tiny splitmix32 stream from hash(seed, index), so no
// record depends on the one before it.

/** The splitmix32 / murmur3 finaliser: a bijective 32-bit mix with good avalanche. */
function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x21f0aaad);
  x ^= x >>> 15;
  x = Math.imul(x, 0x735a2d97);
  x ^= x >>> 15;
  return x >>> 0;
}

const TWO_POW_32 = 4294967296;

/** A 32-bit key for a (safe-integer) seed and a kind, so different kinds do not share sequences. */
function seedKey(seed: number, salt: number): number {
  const low = seed >>> 0;
  const high = Math.floor(seed / TWO_POW_32) >>> 0;
  return mix32(mix32(low ^ salt) ^ mix32(high + 0x632be5ab));
}

/** A splitmix32 stream positioned at record `index`; reused across records to keep the hot path allocation-free. */
class RecordRandom {
  private state = 0;

  constructor(private readonly key: number) {}

  /** Repositions the stream at the start of record `index`. */
  seek(index: number): void {
    const low = index >>> 0;
    const high = Math.floor(index / TWO_POW_32);
    this.state = mix32(this.key ^ mix32(low + Math.imul(high, 0x9e3779b9)));
  }

  /** The next 32-bit unsigned value. */
  next(): number {
    this.state = (this.state + 0x9e3779b9) | 0;
    return mix32(this.state);
  }

  /** The next value in [0, 1). */
  unit(): number {
    return this.next() / TWO_POW_32;
  }

  /** The next integer in [0, n). */
  below(n: number): number {
    return Math.floor(this.unit() * n);
  }
}

/**
 * Samples ranks 0..n−1 with probability ∝ 1 / (rank + 1)^exponent. A guide table (Chen and Asau) jumps
 * straight to the right neighbourhood of the CDF, so a draw costs O(1) expected instead of a binary search.
 */
class ZipfSampler {
  private readonly cdf: Float64Array;
  private readonly guide: Uint32Array;

  constructor(n: number, exponent: number) {
    this.cdf = new Float64Array(n);
    let total = 0;
    for (let rank = 0; rank < n; rank++) total += 1 / (rank + 1) ** exponent;
    let running = 0;
    for (let rank = 0; rank < n; rank++) {
      running += 1 / (rank + 1) ** exponent / total;
      this.cdf[rank] = running;
    }
    this.cdf[n - 1] = 1; // rounding must not leave a gap at the top
    this.guide = new Uint32Array(n);
    let rank = 0;
    for (let slot = 0; slot < n; slot++) {
      while ((this.cdf[rank] ?? 1) <= slot / n) rank++;
      this.guide[slot] = rank;
    }
  }

  /** The rank that `u` in [0, 1) falls on. */
  sample(u: number): number {
    const cdf = this.cdf;
    let rank = this.guide[Math.floor(u * cdf.length)] ?? 0;
    while ((cdf[rank] ?? 1) <= u) rank++;
    return rank;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Fixed vocabularies, built once at module load.

/** Common English words, most frequent first so the Zipf ranks look like real text; every length 1..10 occurs. */
const WORDS: readonly string[] = (
  'the of and to a in is it you that he was for on are with as i his they be at one have this from or had by ' +
  'not word but what some we can out other were all there when up use your how said an each she which do ' +
  'their time if will way about many then them write would like so these her long make thing see him two has ' +
  'look more day could go come did number sound no most people my over know water than call first who may ' +
  'down side been now find any new work part take get place made live where after back little only round man ' +
  'year came show every good me give our under name very through just form sentence great think say help low ' +
  'line differ turn cause much mean before move right boy old too same tell does set three want air well also ' +
  'play small end put home read hand port large spell add even land here must big high such follow act why ' +
  'ask men change went light kind off need house picture try us again animal point mother world near build ' +
  'self earth father head stand own page should country found answer school grow study still learn plant cover ' +
  'food sun four between state keep eye never last let thought city tree cross farm hard start might story saw ' +
  'far sea draw left late run while press close night real life few north stream spark error warning batch ' +
  'window shuffle partition checkpoint lambda serverless throughput'
).split(' ');

const LONGEST_WORD = Math.max(...WORDS.map((word) => word.length));
/** `WORDS_BY_LENGTH[n]` lists the words of n letters; every n from 1 to LONGEST_WORD has at least one. */
const WORDS_BY_LENGTH: readonly string[][] = Array.from({ length: LONGEST_WORD + 1 }, (_, n) =>
  WORDS.filter((word) => word.length === n),
);

/** Words that spammers favour, so a spam filter has a visible effect on word counts too. */
const SPAM_WORDS: readonly string[] =
  'free win click prize offer cash bonus deal now limited follow back'.split(' ');

/** The first hashtags of the pool; larger pools continue with `#topic51`, `#topic52`, … */
const HASHTAG_NAMES: readonly string[] = (
  'spark aws lambda serverless typescript nodejs bigdata streaming kafka cloud devops ml ai data javascript ' +
  'rust golang python java scala docker kubernetes linux opensource webdev coding startup tech security ' +
  'database sql analytics iot blockchain gaming music sports football news travel food photography art science ' +
  'space climate health fitness books movies'
).split(' ');

/** Tweet languages, repeated in proportion to how often they occur. */
const LANGUAGES: readonly string[] = [
  ...Array<string>(12).fill('en'),
  'es',
  'es',
  'es',
  'ja',
  'ja',
  'pt',
  'fr',
  'de',
];

/** How many hashtags a tweet carries: 0 to 3, mostly one. */
const HASHTAG_COUNTS: readonly number[] = [0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3];

const SPACE = 0x20;
const SPAMMERS = 5;
/** One tweet in twenty comes from a spammer. */
const SPAM_EVERY = 20;

/** Salts that keep the three kinds on unrelated sequences for the same seed. */
const KIND_SALT: Record<GeneratorKind, number> = { tweets: 0x7477, lines: 0x6c6e, kv: 0x6b76 };
/** Salt of the sequence that fills the phrase and ending tables of `lines`. */
const TABLE_SALT = 0x7068;
/** Size of the phrase table of `lines`; a power of two so a draw's low bits index it. */
const PHRASES = 1 << 14;
/** How many different endings `lines` has for each length; a power of two for the same reason. */
const ENDINGS_PER_LENGTH = 64;

function pick<T>(items: readonly T[], random: RecordRandom): T {
  return items[random.below(items.length)] as T; // below(n) < n, so the index is in range
}

function makeGenerator(options: Required<GeneratorSourceOptions>): (index: number) => unknown {
  const random = new RecordRandom(seedKey(options.seed, KIND_SALT[options.kind]));
  switch (options.kind) {
    case 'lines':
      return makeLineGenerator(options.lineBytes, options.seed, random);
    case 'tweets':
      return makeTweetGenerator(options.users, options.hashtags, random);
    case 'kv':
      return makeKeyValueGenerator(options.keys, options.ratePerSec, random);
  }
}

function makeLineGenerator(lineBytes: number, seed: number, random: RecordRandom): (index: number) => string {
  // A line is a run of two-word phrases plus one ending of exactly the bytes left, all copied from tables
  // drawn once per source from the seeded Zipf word distribution: one 16-bit draw and one short copy loop
  // per two words is what keeps generation above a million lines a second. The records stay a pure
  // function of (seed, index) because the tables are a function of the seed alone.
  const zipf = new ZipfSampler(WORDS.length, 1);
  const tableRandom = new RecordRandom(seedKey(seed, TABLE_SALT));
  tableRandom.seek(0);
  const drawWord = (): string => WORDS[zipf.sample(tableRandom.unit())] ?? '';
  const phrases = packTexts(Array.from({ length: PHRASES }, () => `${drawWord()} ${drawWord()} `));
  const longestPhrase = Math.max(...Array.from({ length: PHRASES }, (_, i) => textLength(phrases, i)));
  const endingTexts: string[] = [];
  for (let length = 1; length <= longestPhrase; length++) {
    for (let variant = 0; variant < ENDINGS_PER_LENGTH; variant++) {
      endingTexts.push(wordsOfExactLength(length, drawWord, tableRandom));
    }
  }
  const endings = packTexts(endingTexts);

  // Bytes go into one reused array and are decoded once per line: concatenating ~20 words per line would
  // build a rope that costs more to create and again to flatten when a job splits it.
  const line = new Uint8Array(lineBytes);
  const lineText = Buffer.from(line.buffer, 0, lineBytes);

  return (index) => {
    random.seek(index);
    let at = 0;
    let bits = 0;
    let spareBits = -1;
    // A whole phrase while even the longest one leaves at least one byte for the ending.
    while (lineBytes - at > longestPhrase) {
      bits = spareBits;
      if (bits < 0) {
        const draw = random.next();
        bits = draw >>> 16;
        spareBits = draw & 0xffff;
      } else {
        spareBits = -1;
      }
      at = copyText(phrases, bits & (PHRASES - 1), line, at);
    }
    const ending = (lineBytes - at - 1) * ENDINGS_PER_LENGTH + (random.next() & (ENDINGS_PER_LENGTH - 1));
    copyText(endings, ending, line, at);
    return lineText.toString('latin1');
  };
}

/**
 * Lowercase words separated by single spaces, exactly `length` bytes long, with no space at either end.
 * Word runs are drawn until one adds up exactly, so the words keep their Zipf frequencies; always padding
 * with "a word of the missing length" instead would make the few ten-letter words a tenth of all endings.
 */
function wordsOfExactLength(length: number, drawWord: () => string, random: RecordRandom): string {
  for (let attempt = 0; attempt < 1000; attempt++) {
    let text = drawWord();
    while (text.length < length) text += ` ${drawWord()}`;
    if (text.length === length) return text;
  }
  // Unreachable in practice (short words are the most frequent), but keeps the loop bounded.
  let text = '';
  let remaining = length;
  while (remaining > LONGEST_WORD) {
    const word = pick(WORDS_BY_LENGTH[1] ?? [], random);
    text += `${word} `;
    remaining -= word.length + 1;
  }
  return text + pick(WORDS_BY_LENGTH[remaining] ?? [], random);
}

/** Many short ASCII texts laid end to end in one byte array; text `i` is `bytes[starts[i]..starts[i + 1])`. */
interface PackedTexts {
  readonly bytes: Uint8Array;
  readonly starts: Uint32Array;
}

function textLength(texts: PackedTexts, item: number): number {
  return (texts.starts[item + 1] ?? 0) - (texts.starts[item] ?? 0);
}

/** Copies text `item` of `texts` into `out` at `at`; returns the position after it. */
function copyText(texts: PackedTexts, item: number, out: Uint8Array, at: number): number {
  // Locals, because V8 does not hoist the property loads out of the loop on its own.
  const bytes = texts.bytes;
  const starts = texts.starts;
  const stop = starts[item + 1] ?? 0;
  for (let byte = starts[item] ?? 0; byte < stop; byte++) out[at++] = bytes[byte] ?? SPACE;
  return at;
}

function packTexts(texts: readonly string[]): PackedTexts {
  const starts = new Uint32Array(texts.length + 1);
  texts.forEach((text, i) => {
    starts[i + 1] = (starts[i] ?? 0) + text.length;
  });
  return { bytes: new Uint8Array(Buffer.from(texts.join(''), 'latin1')), starts };
}

function makeTweetGenerator(
  users: number,
  hashtagPool: number,
  random: RecordRandom,
): (index: number) => Tweet {
  const hashtags = Array.from(
    { length: hashtagPool },
    (_, rank) => `#${HASHTAG_NAMES[rank] ?? `topic${rank + 1}`}`,
  );
  const hashtagZipf = new ZipfSampler(hashtagPool, 1.1);
  const wordZipf = new ZipfSampler(WORDS.length, 1);

  return (index) => {
    random.seek(index);
    const spammer = random.below(SPAM_EVERY) === 0;
    const user = spammer ? `spammer${random.below(SPAMMERS) + 1}` : `user${random.below(users) + 1}`;
    const wordCount = 3 + random.below(7);
    let text = '';
    for (let w = 0; w < wordCount; w++) {
      const word = spammer && w % 2 === 0 ? pick(SPAM_WORDS, random) : WORDS[wordZipf.sample(random.unit())];
      text += w === 0 ? word : ` ${word}`;
    }
    const tagCount = pick(HASHTAG_COUNTS, random);
    let firstTag = -1;
    let secondTag = -1;
    for (let t = 0; t < tagCount; t++) {
      const rank = hashtagZipf.sample(random.unit());
      // Real tweets rarely repeat a tag; dropping a repeat keeps per-tweet counts honest.
      if (rank === firstTag || rank === secondTag) continue;
      text += ` ${hashtags[rank]}`;
      if (firstTag < 0) firstTag = rank;
      else secondTag = rank;
    }
    return { id: index, user, text, lang: pick(LANGUAGES, random) };
  };
}

function makeKeyValueGenerator(
  keys: number,
  ratePerSec: number,
  random: RecordRandom,
): (index: number) => KeyValueRecord {
  return (index) => {
    random.seek(index);
    return {
      key: `k${random.below(keys) + 1}`,
      value: random.below(10) + 1,
      ts: arrivalMs(index, ratePerSec),
    };
  };
}

/**
 * The first whole millisecond at which `floor(rate × t / 1000)` exceeds `index`, so the timestamp always lies
 * inside the batch that holds the record. Starts from the exact quotient and corrects with the very formula
 * `recordsFor` uses, because floating-point rounding of a fractional rate can put the quotient one off.
 */
function arrivalMs(index: number, ratePerSec: number): number {
  let ms = Math.ceil(((index + 1) * 1000) / ratePerSec);
  if (!Number.isSafeInteger(ms)) return ms; // absurdly low rates: ±1 would no longer change the value
  while (ms > 0 && Math.floor((ratePerSec * (ms - 1)) / 1000) > index) ms--;
  while (Math.floor((ratePerSec * ms) / 1000) <= index) ms++;
  return ms;
}

/** `preview`, except that numbers print as themselves: JSON would show NaN and Infinity as `null`. */
function show(value: unknown): string {
  return typeof value === 'number' ? String(value) : preview(value);
}
