import { existsSync } from "node:fs";
import { resolve } from "node:path";

/**
 * What the operator commands (`stripe:setup`, `stripe:sync`, `access`) share:
 * a failure is one line on stderr and exit code 1, never a stack dump, and
 * they refuse to run against a database file that is not there, where they
 * would otherwise create an empty one and report that all is well.
 */

export class OperatorError extends Error {}

/** Wraps a command's `run` so that what it throws is reported in one line. */
export function operatorRun<A>(
  run: (context: A) => unknown,
): (context: A) => Promise<void> {
  return async (context) => {
    try {
      await run(context);
    } catch (error) {
      reportFailure(error);
    }
  };
}

function reportFailure(error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  console.error(`error: ${message.split("\n")[0]}`);
  process.exitCode = 1;
}

/** DATABASE_PATH, or the server's default, which must already exist. */
export function requireDatabaseFile(): string {
  const path = resolve(process.env.DATABASE_PATH ?? "data/tierwall.db");
  if (!existsSync(path)) {
    throw new OperatorError(
      `There is no database at ${path}. Set DATABASE_PATH to the server's database file.`,
    );
  }
  process.env.DATABASE_PATH = path;
  return path;
}

/**
 * Refuses options the command does not know and positionals beyond those it
 * takes: a mistyped `--untill` must not quietly mean "no end date".
 */
export function rejectUnknownArgs(
  rawArgs: readonly string[],
  known: { options: readonly string[]; positionals: number },
): void {
  let positionals = 0;
  for (let index = 0; index < rawArgs.length; index++) {
    const arg = rawArgs[index] ?? "";
    if (!arg.startsWith("-")) {
      positionals++;
      continue;
    }
    const name = arg.replace(/^-+/, "").split("=")[0] ?? "";
    if (!known.options.includes(name)) throw new OperatorError(`unknown option ${arg}`);
    if (!arg.includes("=")) index++;
  }
  if (positionals > known.positionals) {
    throw new OperatorError(
      `expected ${known.positionals} argument${known.positionals === 1 ? "" : "s"}, got ${positionals}`,
    );
  }
}
