import type { GeneratorKind, GeneratorSourceOptions, KeyValueRecord, Tweet } from './GeneratorSource';

/**
 * The records a {@link GeneratorSource} makes: tweets, text lines and key-value pairs, each record a pure function
 * of the seed, the options and its index. Kept apart from the source, which only decides which indexes a batch
 * holds, because this is where the randomness and the vocabularies live.
 */

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

export function makeGenerator(options: Required<GeneratorSourceOptions>): (index: number) => unknown {
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
