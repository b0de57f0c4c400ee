/**
 * Finding any of many thousand sentences in a text in one pass over it, for the
 * leak scan: a large publication has tens of thousands of gated sentences and
 * thousands of public files, too many to try each sentence on each file.
 *
 * The index works on fixed-length windows of text. A sentence of at least
 * WINDOW + STEP - 1 characters, wherever it occurs in a text, covers a window
 * that starts at a multiple of STEP in that text, and that window starts at one
 * of STEP consecutive offsets in the sentence. So the index keeps, per
 * sentence, the hashes of the windows at STEP consecutive offsets (chosen where
 * the sentence's windows are rarest among all sentences, so that sentences
 * opening with the same words do not crowd one slot); a search hashes only the
 * text's windows at multiples of STEP and confirms each hit by comparing the
 * whole sentence with the text at the implied position. A hash hit is only a
 * hint: every reported sentence really occurs in the text, character for
 * character. Sentences too short for this are looked for one by one.
 */

const WINDOW = 16;
const STEP = 8;
/** Shortest sentence the windows are sure to catch. */
const MIN_WINDOWED_LENGTH = WINDOW + STEP - 1;

const NO_ENTRY = -1;

export class SentenceIndex {
  readonly sentences: readonly string[];
  readonly #shortIds: number[] = [];
  readonly #mask: number;
  /** Per hash bucket, the first entry; entries of a bucket are chained by `#next`. */
  readonly #heads: Int32Array;
  readonly #next: Int32Array;
  readonly #hashes: Int32Array;
  readonly #ids: Int32Array;
  /** Where in its sentence the entry's window starts. */
  readonly #offsets: Int32Array;

  constructor(sentences: readonly string[]) {
    this.sentences = sentences;
    const windowed = sentences.filter((s) => s.length >= MIN_WINDOWED_LENGTH).length;
    const capacity = windowed * STEP;
    this.#mask = bucketCount(capacity) - 1;
    this.#heads = new Int32Array(this.#mask + 1).fill(NO_ENTRY);
    this.#next = new Int32Array(capacity);
    this.#hashes = new Int32Array(capacity);
    this.#ids = new Int32Array(capacity);
    this.#offsets = new Int32Array(capacity);

    const rarity = countWindows(sentences);
    let entry = 0;
    for (const [id, sentence] of sentences.entries()) {
      if (sentence.length < MIN_WINDOWED_LENGTH) {
        this.#shortIds.push(id);
        continue;
      }
      const first = rarestRun(sentence, rarity);
      for (let offset = first; offset < first + STEP; offset++) {
        this.#add(entry++, hashWindow(sentence, offset), id, offset);
      }
    }
  }

  #add(entry: number, hash: number, id: number, offset: number): void {
    const bucket = hash & this.#mask;
    this.#hashes[entry] = hash;
    this.#ids[entry] = id;
    this.#offsets[entry] = offset;
    this.#next[entry] = this.#heads[bucket] as number;
    this.#heads[bucket] = entry;
  }

  /** Adds to `found` the ids of the indexed sentences that occur in `text`. */
  findIn(text: string, found: Set<number> = new Set()): Set<number> {
    const last = text.length - WINDOW;
    for (let position = 0; position <= last; position += STEP) {
      const hash = hashWindow(text, position);
      let entry = this.#heads[hash & this.#mask] as number;
      for (; entry !== NO_ENTRY; entry = this.#next[entry] as number) {
        if (this.#hashes[entry] !== hash) continue;
        const id = this.#ids[entry] as number;
        const start = position - (this.#offsets[entry] as number);
        if (
          start >= 0 &&
          !found.has(id) &&
          text.startsWith(this.sentences[id] as string, start)
        ) {
          found.add(id);
        }
      }
    }
    for (const id of this.#shortIds) {
      if (!found.has(id) && text.includes(this.sentences[id] as string)) found.add(id);
    }
    return found;
  }
}

/** A power of two at least twice the entries, so chains stay short. */
function bucketCount(entries: number): number {
  let count = 1024;
  while (count < entries * 2) count *= 2;
  return count;
}

/** FNV-1a over one window's UTF-16 code units, then mixed so the low bits vary. */
function hashWindow(text: string, start: number): number {
  let hash = 0x811c9dc5;
  for (let i = start; i < start + WINDOW; i++) {
    hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  return hash ^ (hash >>> 13);
}

/**
 * How many windows of all sentences fall into each slot of a fixed-size table:
 * an estimate (slots are shared) of how common each window is.
 */
function countWindows(sentences: readonly string[]): Uint32Array {
  const counts = new Uint32Array(1 << 20);
  for (const sentence of sentences) {
    for (let offset = 0; offset + WINDOW <= sentence.length; offset++) {
      const slot = hashWindow(sentence, offset) & (counts.length - 1);
      counts[slot] = (counts[slot] as number) + 1;
    }
  }
  return counts;
}

/** Start of the STEP consecutive windows of a sentence that are rarest in total. */
function rarestRun(sentence: string, counts: Uint32Array): number {
  const slot = (offset: number) => hashWindow(sentence, offset) & (counts.length - 1);
  const windows = Array.from({ length: sentence.length - WINDOW + 1 }, (_, offset) =>
    Number(counts[slot(offset)]),
  );

  let sum = windows.slice(0, STEP).reduce((total, count) => total + count, 0);
  let best = { first: 0, sum };
  for (let first = 1; first + STEP <= windows.length; first++) {
    sum += (windows[first + STEP - 1] as number) - (windows[first - 1] as number);
    if (sum < best.sum) best = { first, sum };
  }
  return best.first;
}
