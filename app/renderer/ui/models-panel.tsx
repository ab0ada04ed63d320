import { useEffect, useState } from 'react';
import { formatMegabytes, formatMegabytesPerSec } from '../../shared/format/bytes';
import type { ModelEntry, ServerMessage } from '../../shared/messages.contract';
import { isReplyTo } from '../../shared/messages.contract';
import type { EngineClient } from '../transport/engine-client';

type Progress = Extract<ServerMessage, { type: 'models.progress' }>;

/** Whole megabytes from 100 MB up: a decimal there is noise in a list. */
function megabytes(bytes: number): string {
  return formatMegabytes(bytes, bytes < 1e8 ? 1 : 0);
}

function sizeOf(model: ModelEntry): string {
  return model.sizeBytes !== null ? megabytes(model.sizeBytes) : `~${model.approxSizeMb} MB`;
}

function progressText(progress: Progress): string {
  const speed = formatMegabytesPerSec(progress.bytesPerSec);
  if (progress.totalBytes === null) return `${megabytes(progress.receivedBytes)} · ${speed}`;
  const percent = Math.floor((progress.receivedBytes / progress.totalBytes) * 100);
  const etaSec = progress.bytesPerSec > 0 ? Math.round((progress.totalBytes - progress.receivedBytes) / progress.bytesPerSec) : null;
  return `${percent}% of ${megabytes(progress.totalBytes)} · ${speed}${etaSec !== null ? ` · ${etaSec} s left` : ''}`;
}

/**
 * The model manager in the app: the catalog with installed state, resumable downloads with progress
 * (a download interrupted by a closed app resumes when started again), cancel. Lives in a
 * disclosure so it costs nothing until opened.
 */
export function ModelsPanel({ client }: { client: EngineClient }) {
  const [open, setOpen] = useState(false);
  const [models, setModels] = useState<ModelEntry[]>([]);
  const [folder, setFolder] = useState('');
  const [progress, setProgress] = useState<Record<string, Progress>>({});
  const [notices, setNotices] = useState<Record<string, string>>({});

  useEffect(
    () =>
      client.onMessage((message) => {
        if (isReplyTo('models.list', message)) {
          setModels(message.models);
          setFolder(message.modelsDir);
        } else if (message.type === 'models.progress') {
          setProgress((current) => ({ ...current, [message.modelId]: message }));
        } else if (message.type === 'models.done') {
          setProgress(({ [message.modelId]: _done, ...rest }) => rest);
          setNotices((current) => ({ ...current, [message.modelId]: message.message }));
        }
      }),
    [client],
  );

  useEffect(() => {
    if (open) client.send({ type: 'models.list' });
  }, [client, open]);

  return (
    <details className="models-panel" onToggle={(event) => setOpen((event.currentTarget as HTMLDetailsElement).open)}>
      <summary>Models</summary>
      {folder && <p className="models-folder">Folder: {folder}</p>}
      <ul aria-label="Available models">
        {models.map((model) => {
          const running = progress[model.id];
          return (
            <li key={model.id}>
              <span className="model-title">
                {model.title} <small>({model.kind ?? 'model'}, {sizeOf(model)}{model.tiers.length ? `, ${model.tiers.join('/')}` : ''})</small>
              </span>
              {model.installed ? (
                <span className="model-state">{model.active ? 'in use' : 'installed'}</span>
              ) : running ? (
                <>
                  <progress max={running.totalBytes ?? undefined} value={running.receivedBytes} aria-label={`Downloading ${model.title}`} />
                  <span className="model-state">{progressText(running)}</span>
                  <button type="button" onClick={() => client.send({ type: 'models.cancel', modelId: model.id })}>
                    Cancel
                  </button>
                </>
              ) : (
                <button type="button" onClick={() => client.send({ type: 'models.pull', modelId: model.id })}>
                  Download
                </button>
              )}
              {notices[model.id] && <p className="model-notice">{notices[model.id]}</p>}
            </li>
          );
        })}
      </ul>
    </details>
  );
}
