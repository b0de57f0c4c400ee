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

const EMPTY = -1;
/** Numbers per table slot: key, sentence id, offset, last block. */
const SLOT_SIZE = 4;

/**
 * Entries keyed by a 32-bit hash, in one flat array with open addressing, so
 * that a lookup reads one or two neighbouring cache lines. A bit set in front
 * of it, small enough to stay in the CPU cache, answers most lookups for keys
 * that are not there without touching the larger array.
 */
class KeyTable {
  readonly filter: Uint32Array;
  readonly filterShift: number;
  readonly mask: number;
  /**
   * Per slot, SLOT_SIZE numbers: the key, the sentence id (EMPTY when free),
   * where the key starts in the sentence, and the hash of its last block.
   */
  readonly slots: Int32Array;
  size = 0;

  constructor(capacity: number) {
    let filterBits = 1 << 10;
    while (filterBits < capacity * 8) filterBits *= 2;
    this.filter = new Uint32Array(filterBits / 32);
    this.filterShift = 32 - Math.log2(filterBits);

    let slotCount = 256;
    while (slotCount < capacity * 2) slotCount *= 2;
    this.mask = slotCount - 1;
    this.slots = new Int32Array(slotCount * SLOT_SIZE).fill(EMPTY);
  }

  mayHave(key: number): boolean {
    const bit = key >>> this.filterShift;
    return ((this.filter[bit >>> 5] as number) & (1 << (bit & 31))) !== 0;
  }

  add(key: number, id: number, offset: number, tail: number): void {
    const bit = key >>> this.filterShift;
    this.filter[bit >>> 5] = (this.filter[bit >>> 5] as number) | (1 << (bit & 31));

    let slot = key & this.mask;
    while (this.slots[slot * SLOT_SIZE + 1] !== EMPTY) slot = (slot + 1) & this.mask;
    this.slots[slot * SLOT_SIZE] = key;
    this.slots[slot * SLOT_SIZE + 1] = id;
    this.slots[slot * SLOT_SIZE + 2] = offset;
    this.slots[slot * SLOT_SIZE + 3] = tail;
    this.size++;
  }
}

export class SentenceIndex {
  readonly sentences: readonly string[];
  readonly #long: KeyTable;
  readonly #short: KeyTable;
  readonly #tiny: number[] = [];
  readonly #lengths: Int32Array;

  constructor(sentences: readonly string[]) {
    this.sentences = sentences;
    this.#lengths = Int32Array.from(sentences, (sentence) => sentence.length);
    const keys = new SentenceKeys(sentences);
    this.#long = new KeyTable(keys.longCount * STEP);
    this.#short = new KeyTable(keys.shortCount * STEP);

    const rarity = keys.countAll();
    for (const [id, sentence] of sentences.entries()) {
      const start = keys.starts[id] as number;
      const end = keys.starts[id + 1] as number;
      if (start === end) {
        this.#tiny.push(id);
        continue;
      }
      const table = sentence.length >= LONG_LENGTH ? this.#long : this.#short;
      const first = rarestRun(keys.all, start, end, rarity);
      const tail = hashBlock(sentence, sentence.length - STEP);
      for (let offset = first; offset < first + STEP; offset++) {
        table.add(keys.all[start + offset] as number, id, offset, tail);
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
    const { slots, mask } = table;
    for (let slot = key & mask; ; slot = (slot + 1) & mask) {
      const at = slot * SLOT_SIZE;
      const id = slots[at + 1] as number;
      if (id === EMPTY) return;
      if (slots[at] !== key) continue;
      const start = position - (slots[at + 2] as number);
      if (start < 0 || found.has(id)) continue;
      // Sentences that share the key's words often end differently: comparing
      // the last block first spares most visits to the sentence itself.
      const end = start + (this.#lengths[id] as number);
      if (end > text.length || hashBlock(text, end - STEP) !== slots[at + 3]) continue;
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
 * The key at each offset of every sentence, in one flat array: three blocks
 * for long sentences, two for shorter ones, none for a sentence too short for
 * either. Sentence `id`'s keys are `all[starts[id]]` to `all[starts[id + 1] - 1]`.
 */
class SentenceKeys {
  readonly starts: Int32Array;
  readonly all: Int32Array;
  longCount = 0;
  shortCount = 0;

  constructor(sentences: readonly string[]) {
    this.starts = new Int32Array(sentences.length + 1);
    let longest = 0;
    for (const [id, sentence] of sentences.entries()) {
      const count = keyCount(sentence.length);
      if (sentence.length >= LONG_LENGTH) this.longCount++;
      else if (count > 0) this.shortCount++;
      this.starts[id + 1] = (this.starts[id] as number) + count;
      longest = Math.max(longest, sentence.length);
    }

    this.all = new Int32Array(this.starts[sentences.length] as number);
    const blocks = new Int32Array(Math.max(0, longest - STEP + 1));
    for (const [id, sentence] of sentences.entries()) {
      this.#fill(sentence, this.starts[id] as number, blocks);
    }
  }

  #fill(sentence: string, start: number, blocks: Int32Array): void {
    const count = keyCount(sentence.length);
    if (count === 0) return;
    for (let offset = 0; offset + STEP <= sentence.length; offset++) {
      blocks[offset] = hashBlock(sentence, offset);
    }
    const long = sentence.length >= LONG_LENGTH;
    for (let offset = 0; offset < count; offset++) {
      const first = blocks[offset] as number;
      const second = blocks[offset + STEP] as number;
      this.all[start + offset] = long
        ? longKey(first, second, blocks[offset + 2 * STEP] as number)
        : shortKey(first, second);
    }
  }

  /**
   * How many keys of all sentences fall into each slot of a small table: an
   * estimate of how common each key is (slots are shared, counts stop at 255),
   * kept small so that counting stays in the CPU cache.
   */
  countAll(): Uint8Array {
    const counts = new Uint8Array(RARITY_SLOTS);
    for (let index = 0; index < this.all.length; index++) {
      const slot = (this.all[index] as number) & (RARITY_SLOTS - 1);
      const count = counts[slot] as number;
      if (count < 255) counts[slot] = count + 1;
    }
    return counts;
  }
}

/** Keys a sentence of this length has: one per offset where a whole key fits. */
function keyCount(length: number): number {
  if (length >= LONG_LENGTH) return length - LONG_KEY + 1;
  if (length >= SHORT_LENGTH) return length - SHORT_KEY + 1;
  return 0;
}

const RARITY_SLOTS = 1 << 19;

/** Offset of the STEP consecutive keys of a sentence that are rarest in total. */
function rarestRun(keys: Int32Array, start: number, end: number, counts: Uint8Array) {
  const slot = (index: number) => (keys[index] as number) & (RARITY_SLOTS - 1);

  let sum = 0;
  for (let index = start; index < start + STEP; index++)
    sum += counts[slot(index)] as number;
  let best = start;
  let bestSum = sum;
  for (let first = start + 1; first + STEP <= end; first++) {
    sum +=
      (counts[slot(first + STEP - 1)] as number) - (counts[slot(first - 1)] as number);
    if (sum < bestSum) {
      best = first;
      bestSum = sum;
    }
  }
  return best - start;
}
