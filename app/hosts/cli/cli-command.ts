import { parseArgs } from 'node:util';

/** One `npm run cli -- <name> …` subcommand. */
export interface CliCommand {
  /** One line for the command list. */
  summary: string;
  /** Full usage text, printed on `--help` and on a usage error. */
  usage: string;
  /** Runs with the arguments after the command name. */
  run(args: readonly string[]): Promise<void>;
}

/** A mistake in the command line (exit code 2, usage printed). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

type StringOptions = Record<string, { type: 'string' }>;

/** `node:util` parseArgs over string options, with its mistakes reported as UsageError. */
export function parseStringOptions<Options extends StringOptions>(
  args: readonly string[],
  options: Options,
): Partial<Record<keyof Options, string>> {
  try {
    return parseArgs({ args: [...args], options, strict: true }).values as Partial<Record<keyof Options, string>>;
  } catch (error) {
    if ((error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) throw new UsageError((error as Error).message);
    throw error;
  }
}
