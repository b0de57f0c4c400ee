import { z } from "zod";

/**
 * The publication's configuration, shared by the Eleventy build and the server.
 * `defineTierwallConfig` validates it when `tierwall.config.ts` is loaded, so a
 * mistake stops both the build and the server with a message naming the field.
 */

const tierSchema = z.object({
  id: z
    .string()
    .regex(/^[a-z][a-z0-9-]*$/, "a tier id is lowercase letters, digits and dashes"),
  name: z.string().min(1),
  description: z.string().default(""),
});

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
    }),
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

export function defineTierwallConfig(input: TierwallConfigInput): TierwallConfig {
  const result = configSchema.safeParse(input);
  if (result.success) return result.data;

  const problems = result.error.issues
    .map((issue) => `  - ${issue.path.join(".") || "(root)"}: ${issue.message}`)
    .join("\n");
  throw new Error(`tierwall.config.ts is invalid:\n${problems}`);
}
