/**
 * Finding any of many thousand sentences in a text in one pass over it, for the
 * leak scan: a large publication has tens of thousands of gated sentences and
 * thousands of public files, too many to try each sentence on each file.
 *
 * The text is cut into blocks of STEP characters, and each block is hashed
 * once. Wherever a sentence occurs, whole blocks fall inside it, starting at an
 * offset in the sentence that depends on where it starts. So the index holds,
 * for each sentence, keys at STEP consecutive offsets, and one of them is sure
 * to meet the text at a block boundary:
 *  - sentences of LONG_LENGTH characters or more are keyed by three blocks (24
 *    characters), which few unrelated texts share;
 *  - shorter ones, down to SHORT_LENGTH, by two blocks;
 *  - the rare shorter still are looked for one by one.
 * Each sentence's offsets are taken where its keys are rarest among all
 * sentences, so sentences that open with the same words do not crowd one slot.
 *
 * A key match is only a hint: a sentence is reported after comparing it with
 * the text character for character, at the position the match implies. So
 * `findIn` reports exactly the sentences that `text.includes(sentence)` would.
 */

const STEP = 8;
const LONG_KEY = 3 * STEP;
const SHORT_KEY = 2 * STEP;
/** The shortest sentence that whole keys of each size are sure to catch. */
const LONG_LENGTH = LONG_KEY + STEP - 1;
const SHORT_LENGTH = SHORT_KEY + STEP - 1;

const NO_ENTRY = -1;

/**
 * Entries keyed by a 32-bit hash, chained per bucket, in flat typed arrays. A
 * bit set in front of it, small enough to stay in the CPU cache, answers most
 * lookups for keys that are not there without touching the larger arrays.
 */
class KeyTable {
  readonly filter: Uint32Array;
  readonly filterShift: number;
  readonly mask: number;
  readonly heads: Int32Array;
  readonly next: Int32Array;
  readonly keys: Int32Array;
  readonly ids: Int32Array;
  /** Where in its sentence the entry's first window starts. */
  readonly offsets: Int32Array;
  size = 0;

  constructor(capacity: number) {
    let filterBits = 1 << 10;
    while (filterBits < capacity * 8) filterBits *= 2;
    this.filter = new Uint32Array(filterBits / 32);
    this.filterShift = 32 - Math.log2(filterBits);

    let buckets = 256;
    while (buckets < capacity * 2) buckets *= 2;
    this.mask = buckets - 1;
    this.heads = new Int32Array(buckets).fill(NO_ENTRY);
    this.next = new Int32Array(capacity);
    this.keys = new Int32Array(capacity);
    this.ids = new Int32Array(capacity);
    this.offsets = new Int32Array(capacity);
  }

  mayHave(key: number): boolean {
    const bit = key >>> this.filterShift;
    return ((this.filter[bit >>> 5] as number) & (1 << (bit & 31))) !== 0;
  }

  add(key: number, id: number, offset: number): void {
    const entry = this.size++;
    const bucket = key & this.mask;
    const bit = key >>> this.filterShift;
    this.filter[bit >>> 5] = (this.filter[bit >>> 5] as number) | (1 << (bit & 31));
    this.keys[entry] = key;
    this.ids[entry] = id;
    this.offsets[entry] = offset;
    this.next[entry] = this.heads[bucket] as number;
    this.heads[bucket] = entry;
  }
}

export class SentenceIndex {
  readonly sentences: readonly string[];
  readonly #long: KeyTable;
  readonly #short: KeyTable;
  readonly #tiny: number[] = [];

  constructor(sentences: readonly string[]) {
    this.sentences = sentences;
    const longCount = sentences.filter((s) => s.length >= LONG_LENGTH).length;
    const shortCount = sentences.filter(
      (s) => s.length >= SHORT_LENGTH && s.length < LONG_LENGTH,
    ).length;
    this.#long = new KeyTable(longCount * STEP);
    this.#short = new KeyTable(shortCount * STEP);

    const keysOf = sentences.map(sentenceKeys);
    const rarity = countKeys(keysOf);
    for (const [id, keys] of keysOf.entries()) {
      if (!keys) {
        this.#tiny.push(id);
        continue;
      }
      const isLong = (sentences[id]?.length ?? 0) >= LONG_LENGTH;
      const table = isLong ? this.#long : this.#short;
      const first = rarestRun(keys, rarity);
      for (let offset = first; offset < first + STEP; offset++) {
        table.add(keys[offset] as number, id, offset);
      }
    }
  }

  /** Adds to `found` the ids of the indexed sentences that occur in `text`. */
  findIn(text: string, found: Set<number> = new Set()): Set<number> {
    const long = this.#long;
    const short = this.#short.size > 0 ? this.#short : undefined;
    let twoBack = 0;
    let oneBack = 0;

    for (let position = 0; position + STEP <= text.length; position += STEP) {
      const block = hashBlock(text, position);
      if (short && position >= STEP) {
        this.#probe(short, shortKey(oneBack, block), position - STEP, text, found);
      }
      if (position >= 2 * STEP) {
        const key = longKey(twoBack, oneBack, block);
        this.#probe(long, key, position - 2 * STEP, text, found);
      }
      twoBack = oneBack;
      oneBack = block;
    }

    for (const id of this.#tiny) {
      if (!found.has(id) && text.includes(this.sentences[id] as string)) found.add(id);
    }
    return found;
  }

  /** Confirms each entry under `key`: does its sentence start where the key implies? */
  #probe(
    table: KeyTable,
    key: number,
    position: number,
    text: string,
    found: Set<number>,
  ): void {
    if (!table.mayHave(key)) return;
    let entry = table.heads[key & table.mask] as number;
    for (; entry !== NO_ENTRY; entry = table.next[entry] as number) {
      if (table.keys[entry] !== key) continue;
      const id = table.ids[entry] as number;
      const start = position - (table.offsets[entry] as number);
      if (start < 0 || found.has(id)) continue;
      if (text.startsWith(this.sentences[id] as string, start)) found.add(id);
    }
  }
}

/** FNV-1a over one block's UTF-16 code units; keys mix blocks further. */
function hashBlock(text: string, start: number): number {
  let hash = 0x811c9dc5;
  for (let i = start; i < start + STEP; i++) {
    hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  }
  return hash;
}

function shortKey(first: number, second: number): number {
  return mix(Math.imul(first, 0x9e3779b1) ^ second);
}

function longKey(first: number, second: number, third: number): number {
  return mix(Math.imul(Math.imul(first, 0x9e3779b1) ^ second, 0x9e3779b1) ^ third);
}

function mix(value: number): number {
  let hash = value ^ (value >>> 16);
  hash = Math.imul(hash, 0x85ebca6b);
  return hash ^ (hash >>> 13);
}

/**
 * The key at each offset of a sentence: three blocks for long sentences, two
 * for shorter ones; undefined for a sentence too short for either.
 */
function sentenceKeys(sentence: string): Int32Array | undefined {
  if (sentence.length < SHORT_LENGTH) return undefined;
  const blocks = new Int32Array(sentence.length - STEP + 1);
  for (let offset = 0; offset < blocks.length; offset++) {
    blocks[offset] = hashBlock(sentence, offset);
  }
  const block = (offset: number) => blocks[offset] as number;

  if (sentence.length < LONG_LENGTH) {
    const keys = new Int32Array(sentence.length - SHORT_KEY + 1);
    for (let o = 0; o < keys.length; o++) keys[o] = shortKey(block(o), block(o + STEP));
    return keys;
  }
  const keys = new Int32Array(sentence.length - LONG_KEY + 1);
  for (let o = 0; o < keys.length; o++) {
    keys[o] = longKey(block(o), block(o + STEP), block(o + 2 * STEP));
  }
  return keys;
}

const RARITY_SLOTS = 1 << 20;

/**
 * How many keys of all sentences fall into each slot of a fixed-size table: an
 * estimate (slots are shared) of how common each key is.
 */
function countKeys(keysOf: readonly (Int32Array | undefined)[]): Uint32Array {
  const counts = new Uint32Array(RARITY_SLOTS);
  for (const keys of keysOf) {
    if (!keys) continue;
    for (const key of keys) {
      const slot = key & (RARITY_SLOTS - 1);
      counts[slot] = (counts[slot] as number) + 1;
    }
  }
  return counts;
}

/** Start of the STEP consecutive keys of a sentence that are rarest in total. */
function rarestRun(keys: Int32Array, counts: Uint32Array): number {
  const countAt = (offset: number) =>
    counts[(keys[offset] as number) & (RARITY_SLOTS - 1)] as number;

  let sum = 0;
  for (let offset = 0; offset < STEP; offset++) sum += countAt(offset);
  let best = { first: 0, sum };
  for (let first = 1; first + STEP <= keys.length; first++) {
    sum += countAt(first + STEP - 1) - countAt(first - 1);
    if (sum < best.sum) best = { first, sum };
  }
  return best.first;
}
