import { chmodSync, existsSync, writeFileSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { defineCommand, runMain } from "citty";
import {
  checkEdgeSecret,
  DEFAULT_EDGE_TTL_SECONDS,
  edgeCookieName,
  edgeSignedString,
  signEdgeValue,
} from "../server/edge/cookies.ts";
import { contentTypeFor } from "../server/site/content-type.ts";
import tierwall from "../tierwall.config.ts";
import { OperatorError, operatorRun, rejectUnknownArgs } from "./operator.ts";

/**
 * `npm run edge:nginx -- --dist … --upstream … --server-name … --cert … --key …`
 * prints an nginx configuration that serves Tierwall's gated pages at the edge:
 * public files straight from `dist/public/`, a gated page straight from its
 * tier's bundle when the request carries a valid edge cookie for that tier
 * (see server/edge/cookies.ts), and everything else, the API, feeds and every
 * gated request without a valid cookie, from the Tierwall server.
 *
 * `renderEdgeNginxConfig` and `edgeCookieHeader` are also what the tests and the
 * benchmark use: keep their options stable.
 */

export interface EdgeNginxOptions {
  /** The dist symlink, absolute (the server's DIST_DIR). nginx follows it per request. */
  distDir: string;
  /** The Tierwall server, e.g. "http://127.0.0.1:3000". */
  upstream: string;
  /** EDGE_COOKIE_SECRET, the same value the server runs with. */
  secret: string;
  /** Tier ids, lowest (free) first. Default: tierwall.config.ts's tiers. */
  tiers?: string[];
  /** Default host "0.0.0.0"; port 443 with `tls`, 80 without. */
  listen?: { host?: string; port?: number };
  /** Certificate and key files. Omit for plain http (benchmarks, tests). */
  tls?: { cert: string; key: string };
  /**
   * With `tls`, the port whose plain http requests are answered with a 301 to
   * the same address over https, on the listen host. Default 80; false for none.
   */
  redirectPort?: number | false;
  /** `server_name`; default "_". */
  serverName?: string;
  /** `__Host-` cookie names, as the server uses when SITE_URL is https. Default: `tls` given. */
  secureCookies?: boolean;
  /**
   * A private folder for the pid file, logs and temp files; nginx then runs in
   * the foreground. Omit for a system install with its own defaults.
   */
  runtimeDir?: string;
  /** The `user` the workers run as; they must be able to read distDir. */
  user?: string;
  workerProcesses?: number | "auto";
  /**
   * The access log: a file path, or false for none. Default true: access.log in
   * `runtimeDir`, else in /var/log/nginx/.
   */
  accessLog?: boolean | string;
}

/** A complete nginx.conf: main, events and http blocks. */
export function renderEdgeNginxConfig(options: EdgeNginxOptions): string {
  const settings = checkOptions(options);
  return [
    header(),
    mainBlock(settings),
    "events {\n  worker_connections 1024;\n}\n",
    httpBlock(settings),
  ].join("\n");
}

/**
 * The `name=value` pair, for a `Cookie:` request header, that lets nginx serve
 * `tier`'s pages: what the server would give a reader of that tier.
 */
export function edgeCookieHeader(options: {
  secret: string;
  tier: string;
  ttlSeconds?: number;
  secure?: boolean;
  nowSeconds?: number;
}): string {
  const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
  const value = signEdgeValue(
    options.secret,
    options.tier,
    now + (options.ttlSeconds ?? DEFAULT_EDGE_TTL_SECONDS),
  );
  return `${edgeCookieName(options.tier, options.secure ?? false)}=${value}`;
}

interface Settings {
  distDir: string;
  upstream: URL;
  secret: string;
  paidTiers: string[];
  host: string;
  port: number;
  tls?: { cert: string; key: string };
  redirectPort?: number;
  serverName: string;
  secureCookies: boolean;
  runtimeDir?: string;
  user?: string;
  workerProcesses: number | "auto";
  /** The access log's path, quoted for nginx, or undefined for none. */
  accessLog?: string;
}

function checkOptions(options: EdgeNginxOptions): Settings {
  checkEdgeSecret(options.secret);
  const tiers = options.tiers ?? tierwall.tiers.map((tier) => tier.id);
  for (const tier of tiers) {
    if (!/^[a-z][a-z0-9-]*$/.test(tier)) throw new OperatorError(`bad tier id "${tier}"`);
  }
  const upstream = parseUpstream(options.upstream);
  const tls = options.tls && {
    cert: safePath(options.tls.cert),
    key: safePath(options.tls.key),
  };
  return {
    distDir: safePath(options.distDir),
    upstream,
    secret: options.secret,
    paidTiers: tiers.slice(1),
    host: safeWord(options.listen?.host ?? "0.0.0.0", "listen host"),
    port: options.listen?.port ?? (tls ? 443 : 80),
    tls,
    redirectPort: checkRedirectPort(options, tls !== undefined),
    serverName: safeWord(options.serverName ?? "_", "server name"),
    secureCookies: options.secureCookies ?? Boolean(tls),
    runtimeDir:
      options.runtimeDir === undefined ? undefined : safePath(options.runtimeDir),
    user: options.user === undefined ? undefined : safeWord(options.user, "user"),
    workerProcesses: options.workerProcesses ?? "auto",
    accessLog: accessLogPath(options),
  };
}

function checkRedirectPort(options: EdgeNginxOptions, tls: boolean): number | undefined {
  const port = options.redirectPort;
  const httpsPort = options.listen?.port ?? 443;
  if (port === false) return undefined;
  if (!tls) {
    if (port === undefined) return undefined;
    throw new OperatorError("a redirect to https needs --cert and --key");
  }
  if (port === undefined) return 80;
  if (!Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new OperatorError(`the redirect port ${port} is not a port number`);
  }
  if (port === httpsPort) {
    throw new OperatorError(`port ${port} cannot serve https and redirect to it`);
  }
  return port;
}

/** The path given, or the runtime folder's, or where distributions keep nginx's log. */
function accessLogPath(options: EdgeNginxOptions): string | undefined {
  const log = options.accessLog ?? true;
  if (log === false) return undefined;
  if (log === "") throw new OperatorError("--access-log takes a file path, or off");
  if (typeof log === "string") return `"${safePath(log)}"`;
  const folder = options.runtimeDir === undefined ? "/var/log/nginx" : options.runtimeDir;
  return `"${safePath(folder)}/access.log"`;
}

function parseUpstream(value: string): URL {
  const url = new URL(value);
  if (url.protocol !== "http:" || (url.pathname !== "/" && url.pathname !== "")) {
    throw new OperatorError(`--upstream must be http://host:port, not "${value}"`);
  }
  safeWord(url.host, "upstream host");
  return url;
}

/** An absolute path that can sit inside a double-quoted nginx string. */
function safePath(path: string): string {
  const absolute = isAbsolute(path) ? path : resolve(path);
  if (/["\\$;{}\s]/.test(absolute) || /[\p{Cc}]/u.test(absolute)) {
    throw new OperatorError(`the path "${path}" holds characters nginx would misread`);
  }
  return absolute.replace(/\/+$/, "");
}

function safeWord(value: string, what: string): string {
  if (!/^[A-Za-z0-9._:[\]*-]+$/.test(value)) {
    throw new OperatorError(`the ${what} "${value}" is not a plain name or address`);
  }
  return value;
}

function header(): string {
  return `# Tierwall at the edge: generated by \`npm run edge:nginx\`.
# A whole nginx.conf (main, events and http blocks), not a site file for
# sites-enabled/ or conf.d/: start nginx with it, \`nginx -c <this file>\`.
# This file holds EDGE_COOKIE_SECRET: keep it readable by root only (chmod 600).
#
# What nginx does with each path:
#   /api/, /feeds/          always the Tierwall server
#   a gated path            its tier's full page from dist/gated/<tier>/ when the
#                           request carries a valid edge cookie for that tier;
#                           otherwise the Tierwall server, which answers with the
#                           teaser, or with the full page and fresh cookies for a
#                           reader whose cookie merely expired
#   anything else           dist/public/ (404.html when missing)
#   dist/gated/, manifest   never: the root is dist/public/, and the tier bundles
#                           are reached only through an internal location
`;
}

function mainBlock(s: Settings): string {
  const lines = [
    s.user ? `user ${s.user};` : "",
    `worker_processes ${s.workerProcesses};`,
  ];
  if (s.runtimeDir) {
    lines.push(
      "daemon off;",
      `pid "${s.runtimeDir}/nginx.pid";`,
      `error_log "${s.runtimeDir}/error.log" warn;`,
    );
  }
  return `${lines.filter(Boolean).join("\n")}\n`;
}

function httpBlock(s: Settings): string {
  const parts = [
    basics(s),
    typesBlock(),
    upstreamBlock(s),
    cookieMaps(s),
    helperMaps(),
    serverBlock(s),
    s.redirectPort === undefined ? "" : redirectServer(s, s.redirectPort),
  ];
  return `http {\n${indent(parts.filter(Boolean).join("\n"))}}\n`;
}

function basics(s: Settings): string {
  const lines = [
    "sendfile on;",
    "tcp_nopush on;",
    "server_tokens off;",
    "keepalive_timeout 65;",
    "# The server refuses bodies over 1 MiB itself; let it be the one to say so.",
    "client_max_body_size 2m;",
    "# No open_file_cache: it would keep serving a build after dist is swapped.",
    "open_file_cache off;",
  ];
  if (s.runtimeDir) {
    const dir = s.runtimeDir;
    lines.push(
      `client_body_temp_path "${dir}/client_body";`,
      `proxy_temp_path "${dir}/proxy";`,
      `fastcgi_temp_path "${dir}/fastcgi";`,
      `uwsgi_temp_path "${dir}/uwsgi";`,
      `scgi_temp_path "${dir}/scgi";`,
    );
  }
  if (!s.accessLog) return `${lines.join("\n")}\naccess_log off;\n`;
  return `${lines.join("\n")}\n\n${accessLogFormats()}access_log ${s.accessLog} tierwall;\n`;
}

/**
 * nginx's usual format logs the request line as the reader sent it, and a
 * private feed's address is its token. These log what the server's own
 * request log does: the path without query values, and for whatever nginx
 * routes to /feeds/ (however the address was spelled) no path at all. No
 * Referer either: it may hold another page's full address.
 */
function accessLogFormats(): string {
  const fields = (request: string) =>
    `'$remote_addr [$time_local] "${request}" '
  '$status $body_bytes_sent $request_time "$http_user_agent"'`;
  return `# The access log holds no private feed token and no query values:
# "/x?a=1" is logged as "/x?[query]", any feed address as "/feeds/[token]".
map $request_uri $tierwall_logged_uri {
  "~^(?<tierwall_logged_path>[^?]*)\\?" "\${tierwall_logged_path}?[query]";
  default $request_uri;
}
log_format tierwall ${fields("$request_method $tierwall_logged_uri $server_protocol")};
log_format tierwall_feed ${fields("$request_method /feeds/[token] $server_protocol")};
`;
}

/** File types exactly as the Tierwall server sends them (server/site/content-type.ts). */
const EXTENSIONS = [
  "html htm css js mjs json map xml txt md csv svg png jpg jpeg gif webp avif ico",
  "woff woff2 ttf otf pdf zip gz tar sh py rb go rs toml yaml yml sql ipynb",
  "mp3 mp4 m4a webm ogg wav epub webmanifest",
].join(" ");

function typesBlock(): string {
  const byType = new Map<string, string[]>();
  for (const extension of EXTENSIONS.split(" ")) {
    const type = contentTypeFor(`file.${extension}`);
    byType.set(type, [...(byType.get(type) ?? []), extension]);
  }
  const lines = [...byType].map(
    ([type, extensions]) => `  "${type}" ${extensions.join(" ")};`,
  );
  return `types {\n${lines.join("\n")}\n}\ndefault_type application/octet-stream;\n`;
}

function upstreamBlock(s: Settings): string {
  return `upstream tierwall {
  server ${s.upstream.host};
  keepalive 32;
}
`;
}

/**
 * One variable per paid tier holding that tier's edge cookie, read out of the
 * Cookie header (nginx's $cookie_ variables cannot name a "__Host-" cookie),
 * then the cookie for the tier of the path being asked for.
 */
function cookieMaps(s: Settings): string {
  const perTier = s.paidTiers.map((tier) => {
    const name = edgeCookieName(tier, s.secureCookies);
    return `map $http_cookie $tierwall_cookie_${underscored(tier)} {
  "~(?:^|;)\\s*${name}=([^;\\s]+)" $1;
  default "";
}
`;
  });
  const choose = s.paidTiers
    .map((tier) => `  ${tier} $tierwall_cookie_${underscored(tier)};`)
    .join("\n");
  return `${perTier.join("\n")}
map $tierwall_tier $tierwall_cookie {
${choose}
  default "";
}
`;
}

function helperMaps(): string {
  return `# The file a path names: "/posts/x/" is "/posts/x/index.html".
map $uri $tierwall_file {
  "~/$" "\${uri}index.html";
  default $uri;
}

# "serve" only with a valid, unexpired cookie for the path's own tier;
# "server" for a gated path without one (missing, expired, forged, or for
# another tier); "public" for every other path.
map "$tierwall_tier:$secure_link" $tierwall_action {
  "~^:" public;
  "~^[a-z0-9-]+:1$" serve;
  default server;
}

# Public pages revalidate; public assets may be cached for an hour.
map $sent_http_content_type $tierwall_public_cache {
  "~^text/html" "no-cache";
  default "public, max-age=3600";
}
`;
}

function serverBlock(s: Settings): string {
  return `server {
${indent([listenLines(s), proxyDefaults(s), proxiedLocations(s), gatedLocation(s), siteLocation(s)].join("\n"))}}
`;
}

function listenAddress(host: string, port: number): string {
  const bracketed = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
  return `${bracketed}:${port}`;
}

function listenLines(s: Settings): string {
  const address = listenAddress(s.host, s.port);
  if (!s.tls) {
    return `listen ${address};
server_name ${s.serverName};
`;
  }
  return `listen ${address} ssl http2;
server_name ${s.serverName};
ssl_certificate "${s.tls.cert}";
ssl_certificate_key "${s.tls.key}";
ssl_protocols TLSv1.2 TLSv1.3;
ssl_session_cache shared:tierwall_tls:10m;
ssl_session_timeout 1h;
`;
}

function proxyDefaults(s: Settings): string {
  return `root "${s.distDir}/public";
index index.html;
# Redirects (a directory without its slash) keep the reader on this host.
absolute_redirect off;

# The server reads X-Forwarded-For only with TRUST_PROXY=1 (one proxy: this
# one), taking the address nginx appends; links, cookies and the Origin check
# come from its SITE_URL, never from forwarded Host or Proto headers.
proxy_http_version 1.1;
proxy_set_header Connection "";
proxy_set_header Host $host;
proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
proxy_set_header X-Forwarded-Proto $scheme;
proxy_set_header X-Real-IP $remote_addr;
`;
}

function proxiedLocations(s: Settings): string {
  const feedLog = s.accessLog
    ? `\n  # The address is the reader's secret: logged without it.
  access_log ${s.accessLog} tierwall_feed;`
    : "";
  return `location /api/ {
  proxy_pass http://tierwall;
}

# Private feed addresses: only the server knows whose they are.
location /feeds/ {
  proxy_pass http://tierwall;${feedLog}
}

# Everything nginx hands back to the server, with the request as the reader sent it.
location @tierwall {
  proxy_pass http://tierwall$request_uri;
}
`;
}

function gatedLocation(s: Settings): string {
  return `# A tier's bundle, reachable only through the rewrite below, after the
# request's cookie for that very tier has been checked. A file gone by the time
# it is opened (a build swapped in meanwhile) is left to the server.
location ^~ /.tierwall-gated/ {
  internal;
  alias "${s.distDir}/gated/";
  etag off;
  add_header Cache-Control "private, no-store" always;
  add_header Vary Cookie always;
  add_header X-Content-Type-Options nosniff always;
  error_page 404 = @tierwall;
}
`;
}

/** The site: public files, and gated ones for the holder of a valid edge cookie. */
function siteLocation(s: Settings): string {
  const checks = s.paidTiers
    .map(
      (tier) =>
        `  if (-f "${s.distDir}/gated/${tier}$tierwall_file") { set $tierwall_tier ${tier}; }`,
    )
    .join("\n");
  const signed = edgeSignedString("$secure_link_expires", "$tierwall_tier", s.secret);
  return `# Which tier a path belongs to is read per request from which tier folder of
# the live build holds its file, not from a list written into this file: dist
# is a symlink swapped to each new build and nginx opens paths through it on
# every request, so a new build is served at once, with no reload. A page is
# only ever sent from the folder of the tier whose cookie was checked. Adding
# or renaming a tier in tierwall.config.ts needs this file rendered again.
location / {
  error_page 418 = @tierwall;
  error_page 404 /404.html;
  log_not_found off;

  # Pages answer GET and HEAD; the server says so for anything else.
  if ($request_method !~ ^(GET|HEAD)$) { return 418; }

  # The path's tier: whichever tier folder holds its file. Tiers are checked
  # lowest first, so were a file ever in two, the higher tier would rule.
  set $tierwall_tier "";
${checks}

  # The edge cookie for that tier: "<base64url md5>,<expires>", signed over
  # the expiry and the tier, so it can be neither extended nor reused for
  # another tier. nginx's secure_link supports MD5 only.
  secure_link $tierwall_cookie;
  secure_link_md5 "${signed}";

  if ($tierwall_action = serve) {
    rewrite ^ /.tierwall-gated/$tierwall_tier$tierwall_file last;
  }
  if ($tierwall_action = server) { return 418; }

  add_header Cache-Control $tierwall_public_cache always;
  add_header X-Content-Type-Options nosniff always;
}

# The site's feeds, with the types the server gives them.
location = /feed.xml {
  types { }
  default_type "application/atom+xml; charset=utf-8";
  add_header Cache-Control "public, max-age=3600" always;
  add_header X-Content-Type-Options nosniff always;
}
location = /feed.json {
  types { }
  default_type "application/feed+json; charset=utf-8";
  add_header Cache-Control "public, max-age=3600" always;
  add_header X-Content-Type-Options nosniff always;
}
`;
}

/** Plain http, answered with the same address over https. */
function redirectServer(s: Settings, port: number): string {
  const httpsPort = s.port === 443 ? "" : `:${s.port}`;
  return `# Readers who type the address without https:// are sent to it.
server {
  listen ${listenAddress(s.host, port)};
  server_name ${s.serverName};
  return 301 https://$host${httpsPort}$request_uri;
}
`;
}

function underscored(tier: string): string {
  return tier.replaceAll("-", "_");
}

function indent(text: string): string {
  return text
    .split("\n")
    .map((line) => (line === "" ? "" : `  ${line}`))
    .join("\n");
}

const command = defineCommand({
  meta: {
    name: "edge:nginx",
    description: "Write an nginx configuration that serves gated pages at the edge",
  },
  args: {
    dist: { type: "string", description: "The dist symlink (DIST_DIR)", required: true },
    upstream: {
      type: "string",
      description: "The Tierwall server, http://host:port",
      required: true,
    },
    "server-name": { type: "string", description: "The site's host name", default: "_" },
    cert: { type: "string", description: "TLS certificate (chain) file" },
    key: { type: "string", description: "TLS private key file" },
    listen: {
      type: "string",
      description: "host:port to listen on (default 0.0.0.0:443, or :80 without TLS)",
    },
    "redirect-port": {
      type: "string",
      description:
        "With --cert, redirect plain http on this port to https (default 80; off)",
    },
    "access-log": {
      type: "string",
      description: "The access log file, or off (default /var/log/nginx/access.log)",
    },
    user: { type: "string", description: "The user nginx's workers run as" },
    "site-url": {
      type: "string",
      description: "The server's SITE_URL (default: $SITE_URL)",
    },
    out: {
      type: "string",
      description: "Write the configuration to this file, readable by its owner only",
    },
  },
  run: operatorRun(({ args, rawArgs }: { args: CliArgs; rawArgs: string[] }) => {
    rejectUnknownArgs(rawArgs, {
      options: [
        "dist",
        "upstream",
        "server-name",
        "cert",
        "key",
        "listen",
        "redirect-port",
        "access-log",
        "user",
        "site-url",
        "out",
        "help",
      ],
      positionals: 0,
    });
    const config = renderEdgeNginxConfig(optionsFromArgs(args));
    const distProblem = describeMissingDist(resolve(args.dist));
    if (distProblem) console.error(`warning: ${distProblem}`);
    if (args.out) writeSecretFile(resolve(args.out), config);
    else process.stdout.write(config);
  }),
});

/**
 * The configuration is often rendered on a build machine for another one, so
 * a --dist that is not here is worth a warning, not a refusal.
 */
function describeMissingDist(dist: string): string | undefined {
  if (!existsSync(dist)) {
    return `${dist} does not exist here: nginx answers 404 until a build is there (DIST_DIR)`;
  }
  if (!existsSync(join(dist, "public"))) {
    return `${dist} holds no public/ folder: --dist takes DIST_DIR itself, the build's symlink`;
  }
  return undefined;
}

/**
 * The configuration holds EDGE_COOKIE_SECRET: the file is created readable by
 * its owner only, and an existing one is narrowed to that before it is filled.
 */
function writeSecretFile(path: string, text: string): void {
  try {
    writeFileSync(path, "", { mode: 0o600 });
    chmodSync(path, 0o600);
    writeFileSync(path, text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new OperatorError(`cannot write ${path}: ${reason}`);
  }
  console.error(`wrote ${path} (mode 600: it holds the edge cookie secret)`);
}

interface CliArgs {
  dist: string;
  upstream: string;
  "server-name": string;
  cert?: string;
  key?: string;
  listen?: string;
  "redirect-port"?: string;
  "access-log"?: string;
  user?: string;
  "site-url"?: string;
  out?: string;
}

function optionsFromArgs(args: CliArgs): EdgeNginxOptions {
  const secret = process.env.EDGE_COOKIE_SECRET ?? "";
  if (secret === "")
    throw new OperatorError("set EDGE_COOKIE_SECRET to the server's value");
  if (Boolean(args.cert) !== Boolean(args.key)) {
    throw new OperatorError("give both --cert and --key, or neither for plain http");
  }
  const siteUrl = args["site-url"] ?? process.env.SITE_URL;
  return {
    distDir: args.dist,
    upstream: args.upstream,
    secret,
    serverName: args["server-name"],
    tls: args.cert && args.key ? { cert: args.cert, key: args.key } : undefined,
    listen: parseListen(args.listen),
    redirectPort: parseRedirectPort(args["redirect-port"]),
    accessLog: args["access-log"] === "off" ? false : args["access-log"],
    user: args.user,
    secureCookies: siteUrl ? new URL(siteUrl).protocol === "https:" : undefined,
  };
}

function parseRedirectPort(value: string | undefined): number | false | undefined {
  if (value === undefined) return undefined;
  if (value === "off") return false;
  if (!/^\d+$/.test(value)) {
    throw new OperatorError(
      `--redirect-port must be a port number or off, not "${value}"`,
    );
  }
  return Number(value);
}

function parseListen(value: string | undefined): EdgeNginxOptions["listen"] {
  if (value === undefined) return undefined;
  const match = /^(.*):(\d+)$/.exec(value);
  if (!match) throw new OperatorError(`--listen must be host:port, not "${value}"`);
  return { host: match[1] || undefined, port: Number(match[2]) };
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  void runMain(command);
}
