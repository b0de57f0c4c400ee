// Types for the part of Eleventy's programmatic API that buildSite uses; the
// package ships JavaScript without declarations.
declare module "@11ty/eleventy" {
  interface EleventyOptions {
    configPath?: string;
    quietMode?: boolean;
    /** Runs before the config file, with the same config object. */
    config?: (
      eleventyConfig: import("./eleventy-types.ts").EleventyConfig,
    ) => void | Promise<void>;
  }

  export default class Eleventy {
    constructor(input?: string, output?: string, options?: EleventyOptions);
    write(): Promise<unknown>;
    disableLogger(): void;
    /** The one-line account of the last run that Eleventy's command line prints. */
    logFinished(): string;
  }
}
