import { defineEventHandler } from "h3";
import { serveSite } from "../site/serve.ts";

// Every path that is not an API route: the site, public or gated.
export default defineEventHandler((event) => serveSite(event));
