// Sign-up and sign-in pages. The server redirects back here with `?error=` when
// a form post fails, and reads `next` to send the reader on after success.

/** Only same-site paths: never let a link send readers to another site after signing in. */
function safeNext(value) {
  return value && value.startsWith("/") && !value.startsWith("//") && !value.startsWith("/\\")
    ? value
    : "";
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
