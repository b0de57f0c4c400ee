// markdown-it comes with Eleventy, which renders Markdown with it; the package
// ships no types, and the benchmark only renders.
declare module "markdown-it" {
  export default class MarkdownIt {
    constructor(options?: { html?: boolean });
    render(source: string): string;
  }
}
