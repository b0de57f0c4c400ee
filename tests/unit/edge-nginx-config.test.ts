import { describe, expect, it } from "vitest";
import { edgeCookieHeader, renderEdgeNginxConfig } from "../../scripts/edge-nginx.ts";

const SECRET = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA==";
const base = {
  distDir: "/srv/tierwall/dist",
  upstream: "http://127.0.0.1:3000",
  secret: SECRET,
};

describe("the edge nginx configuration", () => {
  it("checks a cookie per paid tier, and none for the free tier", () => {
    const config = renderEdgeNginxConfig(base);
    for (const tier of ["spark", "core", "lightning"]) {
      expect(config).toContain(`"/srv/tierwall/dist/gated/${tier}$tierwall_file"`);
      expect(config).toContain(`tierwall_edge_${tier}=([^;\\s]+)`);
    }
    expect(config).not.toContain("gated/free");
    expect(config).toContain('root "/srv/tierwall/dist/public";');
    expect(config).toContain(
      `secure_link_md5 "tierwall-edge:$secure_link_expires:$tierwall_tier:${SECRET}";`,
    );
  });

  it("terminates TLS and reads __Host- cookies when given a certificate", () => {
    const config = renderEdgeNginxConfig({
      ...base,
      tls: { cert: "/etc/tls/site.pem", key: "/etc/tls/site.key" },
      serverName: "stacker.example",
    });
    expect(config).toContain("listen 0.0.0.0:443 ssl http2;");
    expect(config).toContain('ssl_certificate "/etc/tls/site.pem";');
    expect(config).toContain("__Host-tierwall_edge_core=");
  });

  it("redirects plain http on port 80 to https when given a certificate", () => {
    const tls = { cert: "/etc/tls/site.pem", key: "/etc/tls/site.key" };
    const config = renderEdgeNginxConfig({ ...base, tls });
    expect(redirectServers(config)).toEqual([
      "listen 0.0.0.0:80; server_name _; return 301 https://$host$request_uri;",
    ]);

    const elsewhere = renderEdgeNginxConfig({
      ...base,
      tls,
      listen: { host: "127.0.0.1", port: 8443 },
      redirectPort: 8080,
    });
    expect(redirectServers(elsewhere)).toEqual([
      "listen 127.0.0.1:8080; server_name _; return 301 https://$host:8443$request_uri;",
    ]);

    expect(
      redirectServers(renderEdgeNginxConfig({ ...base, tls, redirectPort: false })),
    ).toEqual([]);
    expect(redirectServers(renderEdgeNginxConfig(base))).toEqual([]);
  });

  it("refuses a redirect without TLS, or on the port that serves https", () => {
    const tls = { cert: "/etc/tls/site.pem", key: "/etc/tls/site.key" };
    expect(() => renderEdgeNginxConfig({ ...base, redirectPort: 80 })).toThrow(
      "a redirect to https needs --cert and --key",
    );
    expect(() => renderEdgeNginxConfig({ ...base, tls, redirectPort: 443 })).toThrow(
      "port 443 cannot serve https and redirect to it",
    );
    expect(() => renderEdgeNginxConfig({ ...base, tls, redirectPort: 70_000 })).toThrow(
      "not a port number",
    );
  });

  it("logs every request without a feed token or query values, or logs nothing when asked", () => {
    const config = renderEdgeNginxConfig(base);
    const feeds = /location \/feeds\/ \{[^}]*\}/.exec(config)?.[0] ?? "";
    expect(feeds).toContain('access_log "/var/log/nginx/access.log" tierwall_feed;');
    expect(config).toContain('access_log "/var/log/nginx/access.log" tierwall;');
    expect(config).toMatch(/log_format tierwall_feed '[^;]*\/feeds\/\[token\]/);
    expect(config).not.toMatch(/\$request\b|\$http_referer|\bcombined\b/);

    const quiet = renderEdgeNginxConfig({ ...base, accessLog: false });
    expect(quiet).toContain("access_log off;");
    expect(quiet).not.toContain("log_format");
  });

  it("writes the access log, feeds included, where it is told to", () => {
    const config = renderEdgeNginxConfig({ ...base, accessLog: "/srv/logs/edge.log" });
    expect(config).toContain('access_log "/srv/logs/edge.log" tierwall;');
    expect(config).toContain('access_log "/srv/logs/edge.log" tierwall_feed;');
    expect(config).not.toContain("/var/log/nginx");
    expect(() => renderEdgeNginxConfig({ ...base, accessLog: "/srv/a log" })).toThrow();
  });

  it("refuses options nginx would misread", () => {
    expect(() => renderEdgeNginxConfig({ ...base, secret: "short" })).toThrow();
    expect(() => renderEdgeNginxConfig({ ...base, distDir: '/srv/"x' })).toThrow();
    expect(() =>
      renderEdgeNginxConfig({ ...base, upstream: "http://a:1/path" }),
    ).toThrow();
    expect(() => renderEdgeNginxConfig({ ...base, serverName: "a; b" })).toThrow();
  });

  it("mints the cookie a reader of a tier would carry", () => {
    const header = edgeCookieHeader({
      secret: SECRET,
      tier: "core",
      nowSeconds: 1_999_999_700,
    });
    expect(header).toBe("tierwall_edge_core=Dlf-6GwuAY4PM7N7ySzNIw,2000000000");
  });
});

/** Each server block that only redirects, squeezed onto one line. */
function redirectServers(config: string): string[] {
  const blocks = config.match(/server \{[^{}]*return 301[^{}]*\}/g) ?? [];
  return blocks.map((block) =>
    block
      .replace(/^server \{|\}$/g, "")
      .replace(/\s+/g, " ")
      .trim(),
  );
}
