import type { WorkerStatus } from '../../shared/messages.contract';
import type { AvatarState } from '../state/diagnostics';
import type { ConnectionStatus } from '../transport/engine-client';

const LABELS: Record<AvatarState, string> = {
  idle: 'Idle',
  listening: 'Listening',
  thinking: 'Thinking…',
  speaking: 'Speaking',
};

function warmingLabel(workers: readonly WorkerStatus[]): string {
  const loading = workers.filter((worker) => worker.state === 'starting' || worker.state === 'loading');
  const progress = loading.map((worker) => worker.loadProgress).filter((value): value is number => value !== undefined);
  const percent = progress.length > 0 ? ` ${Math.round((progress.reduce((a, b) => a + b, 0) / progress.length) * 100)}%` : '';
  return `Loading models…${percent}`;
}

/** What the avatar is doing, whether the engine is reachable, and whether its models are warm (or failed to start). */
export function StateIndicator(props: {
  state: AvatarState;
  connection: ConnectionStatus;
  engineReady: boolean;
  workers: readonly WorkerStatus[];
  /** Why the engine could not start; null while it starts or runs. */
  engineDegraded: string | null;
}) {
  const { state, connection, engineReady, workers, engineDegraded } = props;
  let label: string;
  let tone: string;
  if (connection !== 'open') {
    label = connection === 'connecting' ? 'Connecting…' : 'Disconnected';
    tone = 'offline';
  } else if (engineDegraded !== null) {
    label = 'Engine not running';
    tone = 'offline';
  } else if (!engineReady && workers.length > 0 && state === 'idle') {
    label = warmingLabel(workers);
    tone = 'thinking';
  } else {
    label = LABELS[state];
    tone = state;
  }
  return (
    <div className={`state-indicator state-${tone}`} role="status" aria-label="Avatar state">
      <span className="state-dot" aria-hidden="true" />
      {label}
    </div>
  );
}
