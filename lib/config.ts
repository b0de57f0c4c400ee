import { z } from "zod";

/**
 * The publication's configuration, shared by the Eleventy build and the server.
 * `defineTierwallConfig` validates it when `tierwall.config.ts` is loaded, so a
 * mistake stops both the build and the server with a message naming the field.
 */

/**
 * What a paid tier costs, as `npm run stripe:setup` creates it in Stripe. Amounts
 * are in the currency's minor unit (cents for USD), as Stripe takes them.
 */
const pricesSchema = z
  .object({
    currency: z
      .string()
      .regex(/^[a-zA-Z]{3}$/, "currency must be a 3-letter ISO code such as usd")
      .transform((code) => code.toLowerCase()),
    monthly: z
      .number()
      .int("monthly must be a whole amount in the currency's minor unit")
      .positive("monthly must be more than 0")
      .optional(),
    yearly: z
      .number()
      .int("yearly must be a whole amount in the currency's minor unit")
      .positive("yearly must be more than 0")
      .optional(),
  })
  .refine((prices) => prices.monthly !== undefined || prices.yearly !== undefined, {
    message: "give a monthly or a yearly amount, or both",
  });

const tierSchema = z.object({
  id: z
    .string()
    .regex(/^[a-z][a-z0-9-]*$/, "a tier id is lowercase letters, digits and dashes"),
  name: z.string().min(1),
  description: z.string().default(""),
  prices: pricesSchema.optional(),
});

/** The first tier is free and has no prices; every later tier is paid and has them. */
function checkTierPrices(
  tiers: z.output<typeof tierSchema>[],
  ctx: z.RefinementCtx,
): void {
  tiers.forEach((tier, index) => {
    const path = [index, "prices"];
    if (index === 0 && tier.prices) {
      ctx.addIssue({
        code: "custom",
        path,
        message: `"${tier.id}" is the free tier: remove its prices`,
      });
    }
    if (index > 0 && !tier.prices) {
      ctx.addIssue({
        code: "custom",
        path,
        message: `"${tier.id}" is a paid tier: add prices such as { currency: "usd", monthly: 500 }`,
      });
    }
  });
}

const configSchema = z.object({
  site: z.object({
    name: z.string().min(1),
    description: z.string().default(""),
    url: z.url({
      message: "site.url must be an absolute URL such as https://example.com",
    }),
    language: z.string().default("en"),
    author: z.string().default(""),
  }),
  tiers: z
    .array(tierSchema)
    .min(2, "list at least two tiers: the free tier first, then the paid ones")
    .refine((tiers) => new Set(tiers.map((t) => t.id)).size === tiers.length, {
      message: "tier ids must be unique",
    })
    .superRefine(checkTierPrices),
  billing: z
    .object({
      pastDueGraceDays: z.number().int().min(0).default(7),
      trialDays: z.number().int().min(0).default(0),
      allowPromotionCodes: z.boolean().default(false),
    })
    .prefault({}),
  email: z
    .object({
      from: z.string().min(3),
    })
    .prefault({ from: "Tierwall <hello@localhost>" }),
});

export type TierwallConfigInput = z.input<typeof configSchema>;
export type TierwallConfig = z.output<typeof configSchema>;
export type Tier = TierwallConfig["tiers"][number];
export type TierPrices = z.output<typeof pricesSchema>;

export function defineTierwallConfig(input: TierwallConfigInput): TierwallConfig {
  const result = configSchema.safeParse(input);
  if (result.success) return result.data;

  const problems = result.error.issues
    .map((issue) => `  - ${issue.path.join(".") || "(root)"}: ${issue.message}`)
    .join("\n");
  throw new Error(`tierwall.config.ts is invalid:\n${problems}`);
}
