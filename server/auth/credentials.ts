import { z } from "zod";

/**
 * The rules for what a reader types into the sign-up and sign-in forms. Messages
 * are written for the reader: they appear on the form as they are.
 */

export const PASSWORD_MIN_LENGTH = 10;
export const PASSWORD_MAX_LENGTH = 256;

export interface Credentials {
  email: string;
  password: string;
}

export type CredentialsResult =
  | { ok: true; credentials: Credentials }
  | { ok: false; message: string };

// Internationalised addresses need SMTPUTF8 all the way to the reader's inbox,
// which Tierwall cannot promise; say so rather than call them invalid.
const emailSchema = z
  .string()
  .max(254, "That email address is too long.")
  .refine((value) => /^\p{ASCII}*$/u.test(value), {
    message:
      "Use an address written in plain ASCII: addresses with accented or non-Latin letters are not supported.",
  })
  .pipe(z.email("Enter a valid email address, such as name@example.com."));

// Counted in characters, not UTF-16 units, so that an emoji counts once.
const newPasswordSchema = z
  .string()
  .refine((value) => [...value].length >= PASSWORD_MIN_LENGTH, {
    message: `Choose a password of at least ${PASSWORD_MIN_LENGTH} characters.`,
  })
  .refine((value) => [...value].length <= PASSWORD_MAX_LENGTH, {
    message: `A password can be at most ${PASSWORD_MAX_LENGTH} characters.`,
  })
  .refine((value) => new Set(value).size > 1, {
    message:
      "That password is one character over and over: choose one that is harder to guess.",
  });

// A sign-in only needs a password to compare; the cap keeps hashing cheap.
const existingPasswordSchema = z
  .string()
  .min(1, "Enter your password.")
  .refine((value) => [...value].length <= PASSWORD_MAX_LENGTH, {
    message: `A password can be at most ${PASSWORD_MAX_LENGTH} characters.`,
  });

/** Email addresses are stored and compared trimmed and in lower case. */
export function normalizeEmail(raw: string): string {
  return raw.trim().toLowerCase();
}

export function parseSignUpFields(fields: Record<string, string>): CredentialsResult {
  return parseCredentials(fields, newPasswordSchema);
}

export function parseSignInFields(fields: Record<string, string>): CredentialsResult {
  return parseCredentials(fields, existingPasswordSchema);
}

export type FieldResult = { ok: true; value: string } | { ok: false; message: string };

/** An address typed on its own: asking for a link, or moving to a new address. */
export function parseEmailField(raw: string | undefined): FieldResult {
  const email = normalizeEmail(raw ?? "");
  if (email === "") return { ok: false, message: "Enter your email address." };

  const parsed = emailSchema.safeParse(email);
  if (!parsed.success) return { ok: false, message: firstMessage(parsed.error) };
  return { ok: true, value: parsed.data };
}

/** A new password, by the same rules as at sign-up. */
export function parseNewPasswordField(raw: string | undefined): FieldResult {
  const parsed = newPasswordSchema.safeParse(raw ?? "");
  if (!parsed.success) return { ok: false, message: firstMessage(parsed.error) };
  return { ok: true, value: parsed.data };
}

/** The password the reader already has, asked again before a sensitive change. */
export function parseCurrentPasswordField(raw: string | undefined): FieldResult {
  const parsed = existingPasswordSchema.safeParse(raw ?? "");
  if (!parsed.success) return { ok: false, message: firstMessage(parsed.error) };
  return { ok: true, value: parsed.data };
}

function parseCredentials(
  fields: Record<string, string>,
  passwordSchema: z.ZodType<string>,
): CredentialsResult {
  const rawEmail = normalizeEmail(fields.email ?? "");
  if (rawEmail === "") return { ok: false, message: "Enter your email address." };

  const email = emailSchema.safeParse(rawEmail);
  if (!email.success) return { ok: false, message: firstMessage(email.error) };

  const password = passwordSchema.safeParse(fields.password ?? "");
  if (!password.success) return { ok: false, message: firstMessage(password.error) };

  return { ok: true, credentials: { email: email.data, password: password.data } };
}

function firstMessage(error: z.ZodError): string {
  return error.issues[0]?.message ?? "Check the form and try again.";
}
