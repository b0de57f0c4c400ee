/**
 * Finding any of many thousand sentences in a text in one pass over it, for the
 * leak scan: a large publication has tens of thousands of gated sentences and
 * thousands of public files, too many to try each sentence on each file.
 *
 * The search hashes windows of WINDOW characters that start at every STEP-th
 * position of the text. Wherever a sentence occurs, such positions fall inside
 * it, at an offset that depends on where it starts. So the index holds, for
 * each sentence, its windows at STEP consecutive offsets, and one of them is
 * sure to meet the text at a sampled position:
 *  - sentences of PAIR_LENGTH characters or more are keyed by two windows STEP
 *    apart (24 characters in all), which few unrelated texts share;
 *  - shorter ones, down to WINDOW + STEP - 1 characters, by one window;
 *  - the rare shorter still are looked for one by one.
 * Each sentence's offsets are taken where its keys are rarest among all
 * sentences, so sentences that open with the same words do not crowd one slot.
 *
 * A hash match is only a hint: a sentence is reported after comparing it with
 * the text character for character, at the position the match implies. So
 * `findIn` reports exactly the sentences that `text.includes(sentence)` would.
 */

const WINDOW = 16;
const STEP = 8;
const SINGLE_LENGTH = WINDOW + STEP - 1;
const PAIR_LENGTH = WINDOW + 2 * STEP - 1;

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
  readonly #pairs: KeyTable;
  readonly #singles: KeyTable;
  readonly #short: number[] = [];

  constructor(sentences: readonly string[]) {
    this.sentences = sentences;
    const pairCount = sentences.filter((s) => s.length >= PAIR_LENGTH).length;
    const singleCount = sentences.filter(
      (s) => s.length >= SINGLE_LENGTH && s.length < PAIR_LENGTH,
    ).length;
    this.#pairs = new KeyTable(pairCount * STEP);
    this.#singles = new KeyTable(singleCount * STEP);

    const keysOf = sentences.map(sentenceKeys);
    const rarity = countKeys(keysOf);
    for (const [id, keys] of keysOf.entries()) {
      if (!keys) {
        this.#short.push(id);
        continue;
      }
      const long = (sentences[id]?.length ?? 0) >= PAIR_LENGTH;
      const table = long ? this.#pairs : this.#singles;
      const first = rarestRun(keys, rarity);
      for (let offset = first; offset < first + STEP; offset++) {
        table.add(keys[offset] as number, id, offset);
      }
    }
  }

  /** Adds to `found` the ids of the indexed sentences that occur in `text`. */
  findIn(text: string, found: Set<number> = new Set()): Set<number> {
    const searchSingles = this.#singles.size > 0;
    let previous = 0;
    for (let position = 0; position + WINDOW <= text.length; position += STEP) {
      const hash = hashWindow(text, position);
      if (searchSingles) this.#probe(this.#singles, hash, position, text, found);
      if (position >= STEP) {
        this.#probe(this.#pairs, pairKey(previous, hash), position - STEP, text, found);
      }
      previous = hash;
    }

    for (const id of this.#short) {
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
    const bit = key >>> table.filterShift;
    if (((table.filter[bit >>> 5] as number) & (1 << (bit & 31))) === 0) return;

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

/** FNV-1a over one window's UTF-16 code units, then mixed so the low bits vary. */
function hashWindow(text: string, start: number): number {
  let hash = 0x811c9dc5;
  for (let i = start; i < start + WINDOW; i++) {
    hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  }
  return mix(hash);
}

function pairKey(first: number, second: number): number {
  return mix(Math.imul(first, 0x9e3779b1) ^ second);
}

function mix(value: number): number {
  let hash = value ^ (value >>> 16);
  hash = Math.imul(hash, 0x85ebca6b);
  return hash ^ (hash >>> 13);
}

/**
 * The key at each offset of a sentence: a pair of windows for long sentences,
 * one window for shorter ones; undefined for a sentence too short for either.
 */
function sentenceKeys(sentence: string): Int32Array | undefined {
  if (sentence.length < SINGLE_LENGTH) return undefined;
  const windows = new Int32Array(sentence.length - WINDOW + 1);
  for (let offset = 0; offset < windows.length; offset++) {
    windows[offset] = hashWindow(sentence, offset);
  }
  if (sentence.length < PAIR_LENGTH) return windows;

  const pairs = new Int32Array(windows.length - STEP);
  for (let offset = 0; offset < pairs.length; offset++) {
    pairs[offset] = pairKey(windows[offset] as number, windows[offset + STEP] as number);
  }
  return pairs;
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
