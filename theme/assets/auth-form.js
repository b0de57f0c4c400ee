// Sign-up, sign-in and the pages that emailed links open. The server redirects
// a form back here with its message in `$store.flash` (see session.js), and
// reads `next` to send the reader on after success.

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

/**
 * The token of an emailed link travels in the fragment (`#token=…&next=…`),
 * which browsers never send to a server. It is read once and taken out of the
 * address bar, so it does not linger in history or get copied along.
 */
function takeLinkFragment() {
  const params = new URLSearchParams(window.location.hash.slice(1));
  if (window.location.hash) {
    const { pathname, search } = window.location;
    window.history.replaceState(null, "", `${pathname}${search}`);
  }
  return { token: params.get("token") ?? "", next: safeNext(params.get("next")) };
}

/**
 * Posts a form as JSON and answers with the server's JSON body, so a page that
 * holds a token keeps it when the answer is an error.
 * @param {string} action
 * @param {Record<string, string>} fields
 */
async function postJson(action, fields) {
  const response = await fetch(action, {
    method: "POST",
    headers: { accept: "application/json", "content-type": "application/json" },
    credentials: "same-origin",
    body: JSON.stringify(fields),
  });
  const body = await response.json().catch(() => ({}));
  return { ok: response.ok, status: response.status, body };
}

/** Where to go after success: a path on this site, never another site. */
function sameSiteLocation(location) {
  const target = new URL(location || "/account/", window.location.origin);
  if (target.origin !== window.location.origin) return "/account/";
  return `${target.pathname}${target.search}${target.hash}`;
}

const UNREACHABLE =
  "We couldn't reach the server. Please check your connection and try again.";

document.addEventListener("alpine:init", () => {
  window.Alpine.data("authForm", () => {
    const query = new URLSearchParams(window.location.search);
    return {
      error: "",
      notice: "",
      next: safeNext(query.get("next")),

      init() {
        this.error = this.$store.flash.error;
        this.notice = this.$store.flash.notice;
      },

      /** @param {string} page */
      withNext(page) {
        return this.next ? `${page}?next=${encodeURIComponent(this.next)}` : page;
      },
    };
  });

  // A page opened from an emailed link: one button that uses the link.
  window.Alpine.data("linkForm", () => {
    const link = takeLinkFragment();
    return {
      token: link.token,
      next: link.next,
      error: "",
      busy: false,

      init() {
        this.error = this.$store.flash.error;
      },

      /** @param {HTMLFormElement} form */
      async submit(form) {
        if (this.busy) return;
        this.busy = true;
        this.error = "";
        const fields = Object.fromEntries(new FormData(form));
        try {
          const answer = await postJson(form.action, {
            ...fields,
            token: this.token,
            next: this.next,
          });
          if (answer.ok) {
            const location = sameSiteLocation(answer.body.location);
            if (answer.body.message) {
              this.$store.flash.leave(location, "notice", answer.body.message);
            }
            window.location.assign(location);
            return;
          }
          this.error = answer.body.message ?? "That did not work. Please try again.";
        } catch {
          this.error = UNREACHABLE;
        } finally {
          this.busy = false;
        }
      },
    };
  });

  // The reminder every page shows a reader whose address is not confirmed.
  window.Alpine.data("verifyReminder", () => ({
    sending: false,
    message: "",
    error: "",
    here: window.location.pathname,

    get visible() {
      const user = this.$store.session.user;
      const onConfirmPage = window.location.pathname.startsWith("/verify-email/");
      return Boolean(user && user.emailVerified === false && !onConfirmPage);
    },
    get email() {
      return this.$store.session.user?.email ?? "";
    },

    async resend() {
      if (this.sending) return;
      this.sending = true;
      this.error = "";
      try {
        const answer = await postJson("/api/auth/verify-email/resend", {
          next: this.here,
        });
        if (answer.ok) this.message = answer.body.message ?? "A new link is on its way.";
        else
          this.error =
            answer.body.message ?? "The link could not be sent. Try again later.";
      } catch {
        this.error = UNREACHABLE;
      } finally {
        this.sending = false;
      }
    },
  }));
});
