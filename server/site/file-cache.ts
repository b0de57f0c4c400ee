/**
 * Small files of one build, kept in memory after their first read, so that a
 * busy page is sent without touching the disk. A build folder never changes
 * once it is live (a new build is a new folder, see plugin/publish.ts), so an
 * entry stays right for as long as its build is served; each build gets its
 * own cache (server/site/bundle.ts), which goes when the build is replaced.
 * Only bytes are kept here: who may read them is decided on every request.
 */

export interface CachedFile {
  body: Buffer;
  contentType: string;
  /** The file's modification time, as the Last-Modified header spells it. */
  lastModified: string;
}

/** Files above this size are streamed from disk on every request. */
export const CACHEABLE_FILE_BYTES = 256 * 1024;
/** Total bytes one build's cache may hold; the least recently used go first. */
const CACHE_BUDGET_BYTES = 32 * 1024 * 1024;

export class FileCache {
  readonly #entries = new Map<string, CachedFile>();
  readonly #budget: number;
  #bytes = 0;

  constructor(budget: number = CACHE_BUDGET_BYTES) {
    this.#budget = budget;
  }

  get(path: string): CachedFile | undefined {
    const entry = this.#entries.get(path);
    if (!entry) return undefined;
    // Map order is the eviction order: a hit moves the entry to the back.
    this.#entries.delete(path);
    this.#entries.set(path, entry);
    return entry;
  }

  set(path: string, entry: CachedFile): void {
    if (entry.body.length > CACHEABLE_FILE_BYTES) return;
    const previous = this.#entries.get(path);
    if (previous) this.#bytes -= previous.body.length;
    this.#entries.delete(path);
    this.#entries.set(path, entry);
    this.#bytes += entry.body.length;
    this.#evict();
  }

  get bytes(): number {
    return this.#bytes;
  }

  #evict(): void {
    for (const [path, entry] of this.#entries) {
      if (this.#bytes <= this.#budget) return;
      this.#entries.delete(path);
      this.#bytes -= entry.body.length;
    }
  }
}
