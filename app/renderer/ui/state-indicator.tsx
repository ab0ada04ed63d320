import type { ConnectionStatus } from '../transport/engine-client';
import type { AvatarState } from '../state/diagnostics';

const LABELS: Record<AvatarState, string> = {
  idle: 'Idle',
  listening: 'Listening',
  thinking: 'Thinking…',
  speaking: 'Speaking',
};

/** What the avatar is doing, and whether the engine is reachable. */
export function StateIndicator({ state, connection }: { state: AvatarState; connection: ConnectionStatus }) {
  const label = connection === 'open' ? LABELS[state] : connection === 'connecting' ? 'Connecting…' : 'Disconnected';
  const tone = connection === 'open' ? state : 'offline';
  return (
    <div className={`state-indicator state-${tone}`} role="status" aria-label="Avatar state">
      <span className="state-dot" aria-hidden="true" />
      {label}
    </div>
  );
}
