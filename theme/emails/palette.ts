/**
 * The colours of Tierwall's emails: the theme's own, from the `:root` of
 * `theme/assets/site.css`. Mail clients read no CSS variables, so the emails
 * inline these values; a unit test holds each one to the variable it copies.
 */
export const emailPalette = {
  /** `--card`: the page behind the text. */
  background: "#ffffff",
  /** `--ink`: headings and body text. */
  ink: "#1c2421",
  /** `--muted`: the footer. */
  muted: "#67706b",
  /** `--accent`: links and the button. */
  accent: "#1f4a3f",
  /** `--accent-ink`: text on the button. */
  accentInk: "#ffffff",
} as const;

/** The site.css variable each colour copies. */
export const paletteSource: Readonly<Record<keyof typeof emailPalette, string>> = {
  background: "--card",
  ink: "--ink",
  muted: "--muted",
  accent: "--accent",
  accentInk: "--accent-ink",
};
