/**
 * Requests as a script makes them against a Tierwall site: JSON in, JSON out,
 * from the site's own origin (a form post from another origin is refused).
 */
export function postJsonTo(
  baseUrl: string,
  path: string,
  body: unknown,
  options: { cookie?: string; headers?: Record<string, string> } = {},
): Promise<Response> {
  return fetch(`${baseUrl}${path}`, {
    method: "POST",
    redirect: "manual",
    headers: {
      origin: baseUrl,
      accept: "application/json",
      "content-type": "application/json",
      ...(options.cookie ? { cookie: options.cookie } : {}),
      ...options.headers,
    },
    body: JSON.stringify(body),
  });
}

/** The JSON lines in what a server process printed (see server/log.ts). */
export function jsonLogLines<Line>(output: string): Line[] {
  return output
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Line);
}
