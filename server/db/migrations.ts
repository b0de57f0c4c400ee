import { hashSessionId } from "../auth/session-ids.ts";

export interface Migration {
  id: number;
  name: string;
  sql: string;
  /** SQL functions the migration calls, registered on the connection before it runs. */
  functions?: Readonly<Record<string, (value: string) => string>>;
}

/**
 * Schema migrations, applied in order at server start. Each runs once, inside a
 * transaction, and is recorded in `schema_migration`. Append new ones; never edit
 * one that has shipped.
 */
export const migrations: readonly Migration[] = [
  {
    id: 1,
    name: "readers, sessions, subscriptions, webhook events, email outbox",
    sql: `
      CREATE TABLE user (
        id TEXT PRIMARY KEY,
        email TEXT NOT NULL UNIQUE COLLATE NOCASE,
        password_hash TEXT NOT NULL,
        email_verified INTEGER NOT NULL DEFAULT 0,
        stripe_customer_id TEXT UNIQUE,
        created_at INTEGER NOT NULL
      );

      -- Lucia's session table: expires_at is in unix seconds.
      CREATE TABLE session (
        id TEXT PRIMARY KEY,
        expires_at INTEGER NOT NULL,
        user_id TEXT NOT NULL REFERENCES user(id) ON DELETE CASCADE
      );
      CREATE INDEX session_user_id ON session(user_id);

      -- The reader's Stripe subscriptions as Stripe last reported them.
      CREATE TABLE subscription (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL REFERENCES user(id) ON DELETE CASCADE,
        customer_id TEXT NOT NULL,
        status TEXT NOT NULL,
        tier TEXT NOT NULL,
        price_id TEXT,
        billing_interval TEXT,
        current_period_end INTEGER,
        cancel_at INTEGER,
        cancel_at_period_end INTEGER NOT NULL DEFAULT 0,
        past_due_since INTEGER,
        stripe_created INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE INDEX subscription_user_id ON subscription(user_id);
      CREATE INDEX subscription_customer_id ON subscription(customer_id);

      -- Webhook events already applied; a redelivery of one of these changes nothing.
      CREATE TABLE stripe_event (
        id TEXT PRIMARY KEY,
        type TEXT NOT NULL,
        applied_at INTEGER NOT NULL
      );

      -- Email waiting to be delivered, written in the transaction that caused it.
      CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        idempotency_key TEXT NOT NULL UNIQUE,
        to_address TEXT NOT NULL,
        template TEXT NOT NULL,
        data TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'pending',
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL,
        last_error TEXT,
        resend_id TEXT,
        created_at INTEGER NOT NULL,
        sent_at INTEGER
      );
      CREATE INDEX outbox_pending ON outbox(status, next_attempt_at);
    `,
  },
  {
    id: 2,
    name: "rate limit counters for sign-in and sign-up",
    sql: `
      -- One fixed window per bucket ("signin-address:<hash>", "signup-ip:<ip>", ...),
      -- kept in the database so that a restart does not hand out fresh attempts.
      CREATE TABLE rate_limit (
        bucket TEXT PRIMARY KEY,
        hits INTEGER NOT NULL,
        window_start INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
      );
      CREATE INDEX rate_limit_expires_at ON rate_limit(expires_at);
    `,
  },
  {
    id: 3,
    name: "private feed addresses",
    sql: `
      -- One private feed address per reader. The address itself is never stored:
      -- token_hash (SHA-256) finds the reader when their feed reader asks, and
      -- seed, with the server's feed key, lets the account page show it again.
      CREATE TABLE feed_token (
        user_id TEXT PRIMARY KEY REFERENCES user(id) ON DELETE CASCADE,
        token_hash TEXT NOT NULL UNIQUE,
        seed TEXT NOT NULL,
        created_at INTEGER NOT NULL
      );
    `,
  },
  {
    id: 4,
    name: "complimentary access",
    sql: `
      -- Access an operator grants without Stripe (npm run access -- grant): a
      -- paid tier until the end of a day (unix seconds), or with no end (NULL).
      -- One grant per reader; a new grant replaces the old one.
      CREATE TABLE complimentary_access (
        user_id TEXT PRIMARY KEY REFERENCES user(id) ON DELETE CASCADE,
        tier TEXT NOT NULL,
        until INTEGER,
        note TEXT,
        granted_at INTEGER NOT NULL
      );
    `,
  },
  {
    id: 5,
    name: "emailed links for reader accounts",
    sql: `
      -- One row per link emailed to a reader: confirming an address, signing in,
      -- resetting a password, moving the account to a new address. The link's
      -- secret is never stored, only its SHA-256 (token_hash). id is a public
      -- handle for the email's idempotency key and for logs. A link works once:
      -- used_at is set by the request that uses it, and kept (with the row, until
      -- a week past expiry) so that a second use is told the link was used.
      CREATE TABLE auth_token (
        id TEXT PRIMARY KEY,
        token_hash TEXT NOT NULL UNIQUE,
        purpose TEXT NOT NULL
          CHECK (purpose IN ('verify-email', 'sign-in', 'password-reset', 'change-email')),
        user_id TEXT NOT NULL REFERENCES user(id) ON DELETE CASCADE,
        new_email TEXT,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        used_at INTEGER
      );
      CREATE INDEX auth_token_user_purpose ON auth_token(user_id, purpose);
      CREATE INDEX auth_token_expires_at ON auth_token(expires_at);
    `,
  },
  {
    id: 6,
    name: "email delivery record, billing email triggers",
    sql: `
      -- When the worker last tried to deliver an email (unix seconds), and what it
      -- sent: the subject and bodies are rendered once, at the first attempt, so
      -- that every retry under the same idempotency key sends the same bytes even
      -- if a template is reworded in between.
      ALTER TABLE outbox ADD COLUMN last_attempt_at INTEGER;
      ALTER TABLE outbox ADD COLUMN rendered TEXT;

      -- The subscription's latest invoice as Stripe last reported it: a failed
      -- payment is announced once per invoice, however often Stripe retries it.
      ALTER TABLE subscription ADD COLUMN latest_invoice_id TEXT;
    `,
  },
  {
    id: 7,
    name: "leases shared by server processes",
    sql: `
      -- A named lease held by one server process at a time, e.g. the right to
      -- start a Checkout for one reader (server/billing/queue.ts). It lapses at
      -- expires_at (unix milliseconds) unless its holder renews it, so a process
      -- that dies holding one blocks the others only briefly.
      CREATE TABLE lease (
        name TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        expires_at INTEGER NOT NULL
      ) WITHOUT ROWID;
    `,
  },
  {
    id: 8,
    name: "session ids stored hashed",
    functions: { hash_session_id: hashSessionId },
    sql: `
      -- A session is kept under the SHA-256 of its id, never the id its cookie
      -- carries (server/auth/session-ids.ts). Hashing the stored ids in place
      -- keeps every reader who was signed in before signed in.
      UPDATE session SET id = hash_session_id(id);
    `,
  },
];
