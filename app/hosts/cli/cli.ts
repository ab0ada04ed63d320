import { AppError } from '../../shared/errors.contract';
import { alignCommand } from './align-command';
import { sayCommand } from './say-command';
import { transcribeCommand } from './transcribe-command';
import { turnCommand } from './turn-command';
import { UsageError, type CliCommand } from './cli-command';

/** `npm run cli -- <command> [options]`: add a subcommand by adding one entry here. */
const COMMANDS: Record<string, CliCommand> = {
  align: alignCommand,
  say: sayCommand,
  turn: turnCommand,
  transcribe: transcribeCommand,
};

function listing(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length));
  const lines = Object.entries(COMMANDS).map(([name, command]) => `  ${name.padEnd(width)}  ${command.summary}`);
  return `Usage: npm run cli -- <command> [options]\n\n${lines.join('\n')}\n\nnpm run cli -- <command> --help for its options.`;
}

async function main(argv: readonly string[]): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === '--help' || name === 'help') {
    console.log(listing());
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`Unknown command "${name}".\n\n${listing()}`);
    return 2;
  }
  if (args.includes('--help')) {
    console.log(command.usage);
    return 0;
  }
  try {
    await command.run(args);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`${error.message}\n\n${command.usage}`);
      return 2;
    }
    if (error instanceof AppError) {
      console.error(`Error (${error.code}): ${error.message}`);
      return 1;
    }
    throw error;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.stack : error);
    process.exit(1);
  },
);
