import { WORKER_ENTRIES } from '../../native-workers/registry';
import { entryPath } from '../app-paths';

/** Resolves the worker script that runs `engine`; throws a clear error for an unknown engine. */
export function workerEntryFor(engine: string): string {
  const entry = WORKER_ENTRIES[engine];
  if (!entry) throw new Error(`Unknown worker engine "${engine}" (known: ${Object.keys(WORKER_ENTRIES).join(', ')})`);
  return entryPath(entry.buildName, entry.sourcePath);
}
