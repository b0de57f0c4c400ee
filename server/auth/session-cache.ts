import { type Db, readDataVersion, readOwnChanges } from "../db/database.ts";

/**
 * Signed-in readers open page after page with the same session. This keeps
 * what the session lookup found (the session, its reader, what the reader
 * holds), by session id, for as long as the database is unchanged: every
 * lookup first reads a change mark, and any write by this process or any
 * other empties the whole cache. A hit is therefore what the query would
 * have returned; nothing here lets a revoked session, a lowered tier or a
 * deleted reader outlive the write that ended it.
 *
 * The mark has two parts. This connection's own writes are counted on every
 * lookup (`total_changes()`, no I/O). Other processes' commits show in
 * `data_version`, whose read costs system calls, so it is read once per turn
 * of the event loop and shared by the requests handled in that turn. Every
 * such request was read from its socket before the turn began handling
 * requests, so a commit that happened before a request was sent (the webhook
 * another process applied before this reader's next click) happened before
 * the version was read, and is seen.
 *
 * An entry is used only while its session is not yet due for Lucia's
 * extension (past half its life): a session that needs a write, or has
 * expired, always goes back through Lucia.
 */
export class SessionCache<Value extends { session: { expiresAt: Date } }> {
  readonly #entries = new Map<string, Value>();
  #mark: string | undefined;
  #turnVersion: number | undefined;

  constructor(
    private readonly db: Db,
    /** How long before its expiry a session is extended (half its lifetime). */
    private readonly renewWithinMs: number,
    private readonly capacity = 10_000,
  ) {}

  /**
   * Starts a lookup: empties the cache if the database changed since the last
   * one, and returns the mark to store a fresh result under.
   */
  begin(): string {
    const mark = `${this.#versionThisTurn()}:${readOwnChanges(this.db)}`;
    if (mark !== this.#mark) {
      this.#entries.clear();
      this.#mark = mark;
    }
    return mark;
  }

  /** The cached result for the session, if it may be used at `nowMs`. */
  get(sessionId: string, nowMs: number): Value | undefined {
    const value = this.#entries.get(sessionId);
    if (!value) return undefined;
    if (value.session.expiresAt.getTime() - nowMs > this.renewWithinMs) return value;
    this.#entries.delete(sessionId);
    return undefined;
  }

  /**
   * Keeps a result read after `begin()` returned `mark`. If another lookup
   * has seen the database change since, the result may predate that change
   * and is dropped. A write no lookup has seen yet (this lookup's own extension
   * of the session, say) empties the cache at the next `begin()`.
   */
  set(sessionId: string, value: Value, mark: string): void {
    if (mark !== this.#mark) return;
    if (this.#entries.size >= this.capacity) {
      // Oldest first: Map keeps insertion order.
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
    this.#entries.set(sessionId, value);
  }

  #versionThisTurn(): number {
    if (this.#turnVersion === undefined) {
      this.#turnVersion = readDataVersion(this.db);
      // The check phase follows the poll phase, in which requests are read.
      setImmediate(() => {
        this.#turnVersion = undefined;
      });
    }
    return this.#turnVersion;
  }
}
