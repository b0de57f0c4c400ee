// HEAD, as uptime checks and link checkers send it: the GET answer without its body.
export { default } from "./health.get.ts";
