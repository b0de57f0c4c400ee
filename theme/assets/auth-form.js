// Sign-up and sign-in pages. The server redirects back here with `?error=` when
// a form post fails, and reads `next` to send the reader on after success.

/** Only same-site paths: never let a link send readers to another site after signing in. */
function safeNext(value) {
  if (!value?.startsWith("/") || value.startsWith("//") || value.includes("\\"))
    return "";
  // Browsers drop tabs and newlines from URLs, which could turn "/\t/x" into "//x".
  const hasControl = [...value].some(
    (c) => c.charCodeAt(0) <= 0x20 || c.charCodeAt(0) === 0x7f,
  );
  return hasControl ? "" : value;
}

document.addEventListener("alpine:init", () => {
  window.Alpine.data("authForm", () => {
    const query = new URLSearchParams(window.location.search);
    return {
      error: query.get("error") ?? "",
      next: safeNext(query.get("next")),

      /** @param {string} page */
      withNext(page) {
        return this.next ? `${page}?next=${encodeURIComponent(this.next)}` : page;
      },
    };
  });
});
