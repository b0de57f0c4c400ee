/**
 * What the rest of the server knows about a signed-in reader. These types are
 * Tierwall's own, so that code outside `server/auth/` never depends on Lucia.
 */

export interface Reader {
  id: string;
  email: string;
  emailVerified: boolean;
  stripeCustomerId: string | null;
}

export interface ReaderSession {
  id: string;
  expiresAt: Date;
}
