import { createError, defineEventHandler, type H3Event, setResponseHeader } from "h3";
import { allowedApiMethods, isApiPath } from "../http/api-methods.ts";
import { serveSite } from "../site/serve.ts";

// Every path that is not an API route: the site, public or gated.
export default defineEventHandler((event) => {
  const pathname = event.path.split("?")[0] ?? "/";
  if (isApiPath(pathname)) return refuseApiRequest(event, pathname);
  return serveSite(event);
});

/**
 * A request under /api that no endpoint took: a method the endpoint there
 * does not take (405, naming the ones it does), or no endpoint at all (404,
 * whatever the method, so a script learns the address is wrong).
 */
function refuseApiRequest(event: H3Event, pathname: string): never {
  const allowed = allowedApiMethods(pathname);
  if (allowed.length === 0) {
    throw createError({ statusCode: 404, message: "There is no such API endpoint." });
  }
  setResponseHeader(event, "allow", allowed.join(", "));
  throw createError({
    statusCode: 405,
    message: `This endpoint does not accept ${event.method}.`,
  });
}
