import { copyFile, mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import MarkdownIt from "markdown-it";
import type { Tier } from "../lib/config.ts";
import { isPaidTier } from "../lib/tiers.ts";
import { describeGate } from "../plugin/posts.ts";
import { summarizeMarkdown } from "../plugin/summary.ts";
import { markGatedSection, splitAtPaywall } from "../plugin/teaser.ts";
import { between, ProseWriter, pick, type Random, seededRandom } from "./prose.ts";

/**
 * A generated publication for the build benchmark, written twice: once as a
 * Tierwall writer would write it (one file per post, `tier:` and a paywall
 * marker), once pre-split for plain Eleventy (teaser and full text as separate
 * files, see writePlainContent). Both hold the same Markdown.
 */

export interface GeneratedPost {
  slug: string;
  title: string;
  date: string;
  tier: string;
  tags: string[];
  /** Front-matter teaser, when the writer gave one. */
  teaser?: string;
  /** Markdown above the paywall marker, or the whole body without one. */
  above: string;
  /** Markdown below the marker; absent when the post has no marker. */
  below?: string;
  /** An SVG beside the post, making it a `posts/<slug>/index.md` folder post. */
  attachment?: string;
}

export interface GenerateOptions {
  count: number;
  seed: number;
  tiers: readonly Tier[];
}

/** Share of posts per tier, lowest tier first: 45% free, 25%, 20%, 10%. */
const TIER_MIX = [0.45, 0.25, 0.2, 0.1];
/**
 * Of the gated posts: 85% have a marker only, 12% a front-matter teaser (half
 * of those a marker too), and the rest neither, so all of them is gated.
 */
const MARKER_ONLY = 0.85;
const FRONT_MATTER_TEASER = 0.12;
const FOLDER_POSTS = 0.02;

const TAGS = [
  "databases",
  "sqlite",
  "postgres",
  "operations",
  "incidents",
  "postmortem",
  "runbook",
  "networking",
  "dns",
  "tls",
  "queues",
  "caching",
  "backups",
  "observability",
  "alerting",
  "on-call",
  "capacity",
  "performance",
  "latency",
  "security",
  "billing",
  "migrations",
  "deploys",
  "testing",
  "reliability",
  "storage",
  "kernels",
  "linux",
  "containers",
  "cost",
  "teams",
  "hiring",
  "writing",
  "reading-list",
  "field-report",
  "deep-dive",
  "architecture",
  "dependencies",
  "vendors",
  "tooling",
];

export function generatePosts(options: GenerateOptions): GeneratedPost[] {
  const random = seededRandom(options.seed);
  const prose = new ProseWriter(random);
  const slugs = new Set<string>();
  const firstDay = Date.UTC(2014, 0, 1);
  const dayMs = 24 * 60 * 60 * 1000;

  return Array.from({ length: options.count }, (_, index) => {
    const title = prose.title();
    const slug = uniqueSlug(title, slugs);
    const date = new Date(firstDay + Math.floor(index * 0.9 + random()) * dayMs);
    const tier = pickTier(random, options.tiers);
    const post: GeneratedPost = {
      slug,
      title,
      date: date.toISOString().slice(0, 10),
      tier,
      tags: pickTags(random),
      ...writeBody(prose, slug, tier !== options.tiers[0]?.id),
    };
    if (random() < FOLDER_POSTS) post.attachment = diagram(random, title);
    return post;
  });
}

function pickTier(random: Random, tiers: readonly Tier[]): string {
  let roll = random();
  for (const [index, share] of TIER_MIX.entries()) {
    roll -= share;
    if (roll < 0) return tiers[index]?.id ?? tiers[0]?.id ?? "free";
  }
  return tiers.at(-1)?.id ?? "free";
}

function pickTags(random: Random): string[] {
  const count = between(random, 1, 3);
  return [...new Set(Array.from({ length: count }, () => pick(random, TAGS)))];
}

function uniqueSlug(title: string, taken: Set<string>): string {
  const base = title
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "");
  let slug = base;
  for (let n = 2; taken.has(slug); n++) slug = `${base}-${n}`;
  taken.add(slug);
  return slug;
}

/** 3–8 blocks; a gated post's marker sits after its first one or two. */
function writeBody(
  prose: ProseWriter,
  slug: string,
  gated: boolean,
): Pick<GeneratedPost, "teaser" | "above" | "below"> {
  const blocks = prose.blocks(between(prose.random, 3, 8), slug);
  if (!gated) return { above: blocks.join("\n\n") };

  const roll = prose.random();
  const hasMarker = roll < MARKER_ONLY + FRONT_MATTER_TEASER / 2;
  const hasTeaser = roll >= MARKER_ONLY && roll < MARKER_ONLY + FRONT_MATTER_TEASER;
  const teaser = hasTeaser ? plainText(prose.sentence(slug)) : undefined;
  if (!hasMarker) return { teaser, above: blocks.join("\n\n") };

  const cut = between(prose.random, 1, Math.min(2, blocks.length - 1));
  return {
    teaser,
    above: blocks.slice(0, cut).join("\n\n"),
    below: blocks.slice(cut).join("\n\n"),
  };
}

/** A front-matter teaser is plain text: no emphasis, code or links. */
function plainText(markdown: string): string {
  return markdown.replace(/[*`[\]]|\(https:[^)]*\)/g, "");
}

function diagram(random: Random, title: string): string {
  const points = Array.from(
    { length: 12 },
    (_, x) => `${x * 20},${between(random, 10, 90)}`,
  ).join(" ");
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 220 100">` +
    `<title>${title.replace(/&/g, "&amp;")}</title>` +
    `<polyline fill="none" stroke="black" points="${points}"/></svg>\n`
  );
}

const landingPage = fileURLToPath(new URL("../content/index.md", import.meta.url));

function frontMatter(fields: Record<string, unknown>): string {
  const lines = Object.entries(fields)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key}: ${yamlValue(value)}`);
  return `---\n${lines.join("\n")}\n---\n`;
}

/**
 * JSON is valid YAML flow syntax and quotes every string safely; dates stay
 * bare, as writers type them, so YAML reads them as dates.
 */
function yamlValue(value: unknown): string {
  if (typeof value === "string" && /^\d{4}-\d{2}-\d{2}$/.test(value)) return value;
  return JSON.stringify(value);
}

/** The example publication's landing page, which lists the newest posts. */
async function copyLandingPage(contentDir: string): Promise<void> {
  await mkdir(contentDir, { recursive: true });
  await copyFile(landingPage, path.join(contentDir, "index.md"));
}

function postFile(post: GeneratedPost): string {
  return post.attachment ? `posts/${post.slug}/index.md` : `posts/${post.slug}.md`;
}

async function writeText(file: string, text: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, text);
}

async function writeAttachment(contentDir: string, post: GeneratedPost): Promise<void> {
  if (!post.attachment) return;
  await writeText(
    path.join(contentDir, "posts", post.slug, "diagram.svg"),
    post.attachment,
  );
}

/** The body with its figure: folder posts show their diagram in the last block. */
function withFigure(post: GeneratedPost, markdown: string): string {
  return post.attachment
    ? `${markdown}\n\n![Request rate over the week](diagram.svg)`
    : markdown;
}

/** The post's Markdown as a Tierwall writer writes it, marker and all. */
function tierwallBody(post: GeneratedPost): string {
  return post.below === undefined
    ? withFigure(post, post.above)
    : `${post.above}\n\n<!-- paywall -->\n\n${withFigure(post, post.below)}`;
}

function sharedFields(post: GeneratedPost) {
  const { title, date, tier, tags, teaser } = post;
  return { title, date, tier, tags, teaser };
}

/** The publication as a Tierwall writer keeps it: one Markdown file per post. */
export async function writeTierwallContent(
  contentDir: string,
  posts: readonly GeneratedPost[],
): Promise<void> {
  await copyLandingPage(contentDir);

  for (const post of posts) {
    const source = `${frontMatter(sharedFields(post))}${tierwallBody(post)}\n`;
    await writeText(path.join(contentDir, postFile(post)), source);
    await writeAttachment(contentDir, post);
  }
}

/**
 * The same publication for plain Eleventy, which has no teasers: a gated post
 * becomes its teaser page (at the post's URL) plus a full page under
 * `gated/<tier>/`, written as two files. The Markdown of each is cut with the
 * plugin's own functions, and each page carries in its front matter the
 * `tierwall` data the theme's layouts read, with the values the plugin would
 * compute, so that both builds render the same pages byte for byte.
 */
export async function writePlainContent(
  contentDir: string,
  posts: readonly GeneratedPost[],
  tiers: readonly Tier[],
): Promise<void> {
  await copyLandingPage(contentDir);
  const markdown = new MarkdownIt({ html: true });

  for (const post of posts) {
    const split = splitAtPaywall(tierwallBody(post), post.teaser);
    if (!split.ok) throw new Error(`[bench] ${post.slug}: ${split.problem}`);
    const { parts } = split;
    const url = `/posts/${post.slug}/`;
    const gated = isPaidTier(tiers, post.tier);
    const summary = summarizeMarkdown(gated ? parts.teaser : parts.full, markdown);
    const gate = (isTeaser: boolean) =>
      describeGate(tiers, { tier: post.tier, isTeaser, url, draft: false, summary });

    const publicFields = { ...sharedFields(post), tierwall: gate(true) };
    const publicBody = gated ? parts.teaser : parts.full;
    await writeText(
      path.join(contentDir, postFile(post)),
      `${frontMatter(publicFields)}${publicBody}\n`,
    );
    await writeAttachment(contentDir, post);
    if (!gated) continue;

    const fullFields = {
      ...sharedFields(post),
      tierwall: gate(false),
      permalink: `/gated/${post.tier}${url}index.html`,
      eleventyExcludeFromCollections: true,
    };
    await writeText(
      path.join(contentDir, "gated", post.tier, `${post.slug}.md`),
      `${frontMatter(fullFields)}${markGatedSection(parts)}\n`,
    );
  }
}
