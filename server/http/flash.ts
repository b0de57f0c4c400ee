import { type H3Event, sendRedirect, setCookie } from "h3";
import { isSecureSite } from "../auth/lucia.ts";

/**
 * The message a form post leaves for the page it redirects to ("Wrong email
 * or password.", "Your new password is set."). It travels in a cookie set on
 * the 303, never in the address: a link from anywhere can carry any query
 * string, so text read from the address would let a stranger write in the
 * site's own notice boxes. Another site cannot set this site's cookies, and on
 * https the `__Host-` name keeps sibling subdomains out as well.
 *
 * The page reads it with a script (theme/assets/session.js), shows it once and
 * clears it, so the cookie is not HttpOnly; it holds nothing secret. It names
 * the page it is for, so another tab that loads meanwhile leaves it alone, and
 * it lasts a minute, so a message nobody showed does not turn up later.
 */

export type FlashKind = "error" | "notice";

export interface Flash {
  /** The path of the page that shows it, without query or fragment. */
  page: string;
  kind: FlashKind;
  message: string;
}

/** Named as the session cookie is (server/auth/lucia.ts), for the same reason. */
const FLASH_COOKIE_NAME = isSecureSite() ? "__Host-tierwall_flash" : "tierwall_flash";

const FLASH_MAX_AGE_SECONDS = 60;

function setFlash(event: H3Event, flash: Flash): void {
  setCookie(event, FLASH_COOKIE_NAME, JSON.stringify(flash), {
    path: "/",
    sameSite: "lax",
    secure: isSecureSite(),
    maxAge: FLASH_MAX_AGE_SECONDS,
  });
}

/**
 * A 303 to `location` that leaves `message` for the page there. The location
 * is one of the site's own paths, possibly with a query (`next`) or fragment.
 */
export function redirectWithFlash(
  event: H3Event,
  location: string,
  kind: FlashKind,
  message: string,
): Promise<void> {
  const { pathname } = new URL(location, "http://site.invalid");
  setFlash(event, { page: pathname, kind, message });
  return sendRedirect(event, location, 303);
}
