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
    expect(config).toContain("return 301 https://$host$request_uri;");
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
