import type { ErrorNotice } from '../state/conversation-store';

const CODE_WORDS: Record<string, string> = {
  invalid_message: 'Unexpected message',
  unauthorized: 'Not allowed',
  unknown_session: 'No conversation',
  pool_exhausted: 'Engine busy',
  worker_crashed: 'A model stopped',
  worker_hung: 'A model stopped responding',
  worker_out_of_memory: 'Out of memory',
  model_missing: 'Model missing',
  model_invalid: 'Model unusable',
  model_too_large: 'Model too large',
  cancelled: 'Cancelled',
  bad_audio: 'Audio problem',
  engine_degraded: 'Engine not running',
  internal: 'Something went wrong',
};

/** The latest errors, in words, each dismissable; first, while the engine could not start, why (not dismissable). */
export function ErrorBanner({ errors, engineDegraded, onDismiss }: { errors: readonly ErrorNotice[]; engineDegraded: string | null; onDismiss: (id: number) => void }) {
  if (errors.length === 0 && engineDegraded === null) return null;
  return (
    <div className="error-banner" role="alert">
      {engineDegraded !== null && (
        <p className="error error-fatal engine-degraded">
          <strong>The engine could not start:</strong> {engineDegraded} Change what kept it from starting in <strong>Settings</strong>, then
          restart the app.
        </p>
      )}
      {errors.map((error) => (
        <p key={error.id} className={error.recoverable ? 'error' : 'error error-fatal'}>
          <strong>{CODE_WORDS[error.code] ?? 'Error'}:</strong> {error.message}
          <button type="button" className="dismiss" aria-label="Dismiss error" onClick={() => onDismiss(error.id)}>
            ×
          </button>
        </p>
      ))}
    </div>
  );
}
