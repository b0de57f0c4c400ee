/**
 * Made-up operations prose for benchmark publications: sentences assembled from
 * word lists, so that thousands of posts read like real writing (varied length,
 * inline markup, quotes, entities) without two posts sharing a sentence. A
 * shared sentence would be a true positive for the leak scan: a gated sentence
 * that also sits on a public page.
 */

export type Random = () => number;

/** A small seeded generator (mulberry32): the same seed gives the same publication. */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function pick<T>(random: Random, list: readonly T[]): T {
  return list[Math.floor(random() * list.length)] as T;
}

export function between(random: Random, low: number, high: number): number {
  return low + Math.floor(random() * (high - low + 1));
}

const SUBJECTS = [
  "the on-call engineer",
  "our database team",
  "the billing service",
  "a junior developer",
  "the release manager",
  "the staging cluster",
  "every new hire",
  "the platform group",
  "my colleague in Lisbon",
  "the payments team",
  "the load balancer",
  "the nightly export",
  "the old monolith",
  "the search indexer",
  "a tired reviewer",
  "the storage vendor",
  "the incident commander",
  "the support desk",
  "our largest customer",
  "the migration script",
  "the queue consumer",
  "the replica in Frankfurt",
  "the metrics pipeline",
  "the security team",
  "a single cron entry",
  "the deploy bot",
  "the mobile client",
  "the caching layer",
  "the first responder",
  "the staff engineer",
  "the backup job",
  "the API gateway",
  "the DNS resolver",
  "the build server",
  "the feature flag service",
  "the customer success lead",
  "the CTO",
  "this summer's intern",
  "the analytics warehouse",
  "the edge proxy",
  "the R&D group",
  "the auditor",
] as const;

/** Past and base forms of each verb. */
const VERBS = [
  ["rewrote", "rewrite"],
  ["quietly broke", "quietly break"],
  ["measured", "measure"],
  ["restarted", "restart"],
  ["throttled", "throttle"],
  ["ignored", "ignore"],
  ["rolled back", "roll back"],
  ["documented", "document"],
  ["doubled", "double"],
  ["cut in half", "cut in half"],
  ["flagged", "flag"],
  ["retried", "retry"],
  ["dropped", "drop"],
  ["cached", "cache"],
  ["replayed", "replay"],
  ["paged us about", "page us about"],
  ["shipped", "ship"],
  ["deleted", "delete"],
  ["misread", "misread"],
  ["tuned", "tune"],
  ["audited", "audit"],
  ["benchmarked", "benchmark"],
  ["sharded", "shard"],
  ["reindexed", "reindex"],
  ["froze", "freeze"],
  ["split up", "split up"],
  ["drained", "drain"],
  ["upgraded", "upgrade"],
  ["patched", "patch"],
  ["duplicated", "duplicate"],
  ["lost track of", "lose track of"],
  ["rebuilt", "rebuild"],
  ["validated", "validate"],
  ["renamed", "rename"],
  ["archived", "archive"],
  ["compressed", "compress"],
  ["rate-limited", "rate-limit"],
  ["load-tested", "load-test"],
  ["migrated", "migrate"],
  ["simplified", "simplify"],
] as const;

const OBJECTS = [
  "the connection pool",
  "every pending invoice",
  "the retry budget",
  "three years of logs",
  "the certificate chain",
  "the write-ahead log",
  "the checkout flow",
  "the queue backlog",
  "the schema migration",
  "the alert thresholds",
  "the backup manifest",
  "our slowest query",
  "the sessions table",
  "the on-call rota",
  "the capacity plan",
  "the DNS records",
  "the timeout settings",
  "the vacuum schedule",
  "the error budget",
  "the release checklist",
  "the audit trail",
  "the cold storage tier",
  "the failover script",
  "the health checks",
  "the rate limiter",
  "the index on `created_at`",
  "the webhook handler",
  "the read replicas",
  "the disk quota",
  "the dependency tree",
  "the `max_connections` setting",
  "the TLS configuration",
  "the deploy pipeline",
  "the feature flags",
  "the customer exports",
  "the cron table",
  "the log rotation",
  "the `busy_timeout` pragma",
  "the staging data",
  "the access tokens",
  "the circuit breaker",
  "the warm standby",
  "the message queue",
  "the object store",
  "the Q&A archive",
  "the status page",
  "the kernel parameters",
  "the fsync calls",
  "the load shedder",
  "the tenant quotas",
] as const;

const WHEN = [
  "during the Tuesday deploy",
  "two hours before the launch",
  "in the middle of the night",
  "after the quarterly review",
  "while everyone was at lunch",
  "on the first day of the sale",
  "during the annual failover drill",
  "right after the holidays",
  "before anyone noticed",
  "within a single afternoon",
  "at the end of the sprint",
  "on a quiet Sunday morning",
  "during the data center move",
  "the week the founder was away",
  "halfway through the migration",
  "on the busiest day of the year",
  "just as the pager went off",
  "before the auditors arrived",
  "in the week after the outage",
  "while the backups were running",
  "during a routine rotation",
  "on the morning of the board meeting",
  "long after the contractor left",
  "as the traffic doubled",
  "between two release trains",
  "in the last hour of the incident",
  "without telling the support desk",
  "on the night of the leap second",
  "while the vendor was on holiday",
  "during the first load test",
] as const;

const CONSEQUENCES = [
  "which nobody had tested",
  "and nobody complained",
  "which saved us a week",
  "so the pager finally stayed quiet",
  "and the graphs went flat",
  "which cost more than it saved",
  "and the error rate never recovered",
  "which is why this post exists",
  "and the customers noticed first",
  "so we wrote it down",
  "which made the next incident shorter",
  "and nothing else changed",
  "so the dashboards lied for a day",
  "and that was the whole fix",
  "which surprised even the vendor",
  "and the on-call rota got lighter",
  "so every request paid for it twice",
  "which broke an assumption from 2014",
] as const;

const MAXIMS = [
  "never trust the default timeout",
  "restore before you need to",
  "one owner per alert",
  "measure, then change one thing",
  "a runbook nobody ran is fiction",
  "boring is a feature",
  "delete before you add",
  "the queue is never empty for long",
  "every retry needs a budget",
  "write it down while it hurts",
] as const;

const UNITS = ["minutes", "hours", "days", "deploys", "weeks"] as const;

const HEADINGS = [
  "What we changed",
  "The numbers",
  "Where it broke",
  "The fix",
  "Why it matters",
  "Timeline",
  "What I would do today",
  "Loose ends",
  "The setup",
  "Reading the graphs",
  "Before you copy this",
  "Trade-offs",
] as const;

const TITLE_OPENERS = [
  "Notes on",
  "What we learned from",
  "Rethinking",
  "A field guide to",
  "Against",
  "In defence of",
  "Debugging",
  "Living with",
  "The hidden cost of",
  "Scaling",
  "Operating",
  "Getting rid of",
] as const;

const TITLE_KINDS = [
  "",
  "",
  ": a teardown",
  ": a runbook",
  ": a case study",
  ": a deep dive",
  ": a checklist",
  ", revisited",
] as const;

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function withMarkup(random: Random, phrase: string, slugHint: string): string {
  const roll = random();
  if (roll < 0.05) return `**${phrase}**`;
  if (roll < 0.08) return `*${phrase}*`;
  if (roll < 0.12) return `[${phrase}](https://example.com/notes/${slugHint})`;
  return phrase;
}

/** One sentence in one of several shapes, none a tail of another. */
function sentenceShape(random: Random, slugHint: string): string {
  const subject = pick(random, SUBJECTS);
  const [past, base] = pick(random, VERBS);
  const object = withMarkup(random, pick(random, OBJECTS), slugHint);
  const when = pick(random, WHEN);
  const shape = between(random, 0, 8);

  if (shape === 0) return `${capitalise(subject)} ${past} ${object} ${when}.`;
  if (shape === 1) {
    const consequence = pick(random, CONSEQUENCES);
    return `${capitalise(subject)} ${past} ${object} ${when}, ${consequence}.`;
  }
  if (shape === 2) return `${capitalise(when)}, ${subject} ${past} ${object}.`;
  if (shape === 3) {
    const count = between(random, 2, 90);
    return `It took ${count} ${pick(random, UNITS)} before ${subject} ${past} ${object}.`;
  }
  if (shape === 4) return `Why would ${subject} ${base} ${object} ${when}?`;
  if (shape === 5) {
    const maxim = pick(random, MAXIMS);
    return `${capitalise(subject)} wrote "${maxim}" on the whiteboard ${when}.`;
  }
  if (shape === 6) {
    const before = between(random, 120, 4000);
    const after = between(random, 3, before - 1);
    return `The p99 latency fell from ${before} ms to ${after} ms once ${subject} ${past} ${object}.`;
  }
  if (shape === 7) {
    const share = between(random, 2, 97);
    return `Roughly ${share} percent of the time, ${subject} didn't ${base} ${object} ${when}.`;
  }
  return `Nobody expected ${subject} to ${base} ${object} ${when}, but that's what happened.`;
}

/**
 * Sentences never repeat within one publication: a repeated sentence in a free
 * post and a gated one would be reported as a leak, correctly.
 */
export class ProseWriter {
  readonly #used = new Set<string>();

  constructor(readonly random: Random) {}

  sentence(slugHint: string): string {
    for (;;) {
      const sentence = sentenceShape(this.random, slugHint);
      const key = sentence.replace(/[*`[\]]|\(https:[^)]*\)/g, "").toLowerCase();
      if (this.#used.has(key)) continue;
      this.#used.add(key);
      return sentence;
    }
  }

  paragraph(slugHint: string): string {
    const count = between(this.random, 2, 6);
    return Array.from({ length: count }, () => this.sentence(slugHint)).join(" ");
  }

  list(slugHint: string): string {
    const count = between(this.random, 3, 5);
    return Array.from({ length: count }, () => `- ${this.sentence(slugHint)}`).join("\n");
  }

  heading(): string {
    return `## ${pick(this.random, HEADINGS)}`;
  }

  /** A shell snippet: short lines, like real ones, that never read as sentences. */
  codeBlock(): string {
    const port = between(this.random, 5400, 5499);
    const lines = [
      "```sh",
      `pg_isready -p ${port}`,
      `systemctl restart app@${between(this.random, 1, 9)}`,
      `sqlite3 app.db 'PRAGMA busy_timeout=${between(this.random, 1000, 9000)};'`,
      "```",
    ];
    return lines.join("\n");
  }

  /**
   * Body blocks: a paragraph first, as writers open, then mostly paragraphs
   * with now and then a heading, a list or a snippet.
   */
  blocks(count: number, slugHint: string): string[] {
    const blocks = [this.paragraph(slugHint)];
    for (let i = 1; i < count; i++) {
      const roll = this.random();
      if (roll < 0.12) blocks.push(this.heading());
      if (roll > 0.9) blocks.push(this.list(slugHint));
      else if (roll > 0.86) blocks.push(this.codeBlock());
      else blocks.push(this.paragraph(slugHint));
    }
    return blocks;
  }

  title(): string {
    const object = pick(this.random, OBJECTS).replace(/`/g, "");
    const title = `${pick(this.random, TITLE_OPENERS)} ${object}${pick(this.random, TITLE_KINDS)}`;
    return capitalise(title);
  }
}
