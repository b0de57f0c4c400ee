import { defineEventHandler, getRouterParam } from "h3";
import { serveReaderFeed } from "../../feeds/serve.ts";

// A reader's private feed. The address is the credential: no session needed.
export default defineEventHandler((event) =>
  serveReaderFeed(event, getRouterParam(event, "file") ?? ""),
);
