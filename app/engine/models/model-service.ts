import { AppError } from '../../shared/errors.contract';
import { REPLY_OF, type ModelEntry, type ServerMessage } from '../../shared/messages.contract';
import type { ConnectionPart, ModelMessageType } from '../dispatch';
import type { ModelManager } from './model-manager';

/** The model group of the dispatch table, per client; downloads outlive the client that started them. */
export interface ModelService {
  connect(send: (message: ServerMessage) => void): ConnectionPart<ModelMessageType>;
  /** Aborts every download (the app is closing). */
  shutdown(): void;
}

/** Progress reports per download at most this often, so a fast disk does not flood the UI. */
const PROGRESS_INTERVAL_MS = 200;

/**
 * Puts the model manager behind the same client messages as the engine: `models.list`,
 * `models.pull` (resumable, with `models.progress` to every client) and `models.cancel`.
 * Downloads belong to the app, not to a window: closing one client does not stop them.
 */
export function createModelService(manager: ModelManager, activeModelPaths: () => string[]): ModelService {
  const clients = new Set<(message: ServerMessage) => void>();
  const downloads = new Map<string, AbortController>();
  const broadcast = (message: ServerMessage): void => {
    for (const send of clients) send(message);
  };

  async function listing(): Promise<ServerMessage> {
    const active = new Set(activeModelPaths());
    const models: ModelEntry[] = (await manager.list()).map((model) => ({
      id: model.id,
      title: model.title,
      kind: model.kind,
      tiers: model.tiers,
      licence: model.licence,
      sizeBytes: model.sizeBytes,
      approxSizeMb: model.approxSizeMb,
      installed: model.installed,
      active: model.path !== null && active.has(model.path),
    }));
    return { type: REPLY_OF['models.list'], modelsDir: manager.dir, models };
  }

  function pull(modelId: string): void {
    if (downloads.has(modelId)) return;
    const controller = new AbortController();
    downloads.set(modelId, controller);
    let lastReportMs = 0;
    manager
      .pull(modelId, {
        signal: controller.signal,
        onProgress: (progress) => {
          const nowMs = performance.now();
          if (nowMs - lastReportMs < PROGRESS_INTERVAL_MS) return;
          lastReportMs = nowMs;
          broadcast({ type: 'models.progress', modelId, ...progress });
        },
      })
      .then(
        (result) =>
          broadcast({
            type: 'models.done',
            modelId,
            status: 'installed',
            message: result.alreadyInstalled ? `${modelId} was already installed.` : `${modelId} is installed. It is used from the next start.`,
            path: result.path,
          }),
        (error: unknown) => {
          const appError = AppError.from(error);
          broadcast({ type: 'models.done', modelId, status: controller.signal.aborted ? 'cancelled' : 'failed', message: appError.message });
        },
      )
      .finally(() => {
        downloads.delete(modelId);
        void listing().then(broadcast, () => undefined);
      });
  }

  return {
    connect(send) {
      clients.add(send);
      return {
        handlers: {
          'models.list': () => {
            listing().then(send, (error: unknown) => send({ type: 'error', ...AppError.from(error).toShape() }));
          },
          'models.pull': (message) => pull(message.modelId),
          'models.cancel': (message) => downloads.get(message.modelId)?.abort(),
        },
        close() {
          clients.delete(send);
        },
      };
    },
    shutdown() {
      for (const controller of downloads.values()) controller.abort();
    },
  };
}
