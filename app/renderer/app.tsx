import { Component, type ReactNode, useEffect, useSyncExternalStore } from 'react';
import { AvatarScene } from './avatar/avatar-scene';
import type { Runtime } from './state/runtime';
import type { ConnectionStatus } from './transport/engine-client';
import { ErrorBanner } from './ui/error-banner';
import { LatencyOverlay } from './ui/latency-overlay';
import { MessageForm } from './ui/message-form';
import { StateIndicator } from './ui/state-indicator';
import { Transcript } from './ui/transcript';
import { useDiagnostics } from './ui/use-diagnostics';

/** Keeps the conversation usable when WebGL is unavailable. */
class SceneBoundary extends Component<{ children: ReactNode }, { failed: string | null }> {
  override state = { failed: null as string | null };

  static getDerivedStateFromError(error: unknown): { failed: string } {
    return { failed: error instanceof Error ? error.message : String(error) };
  }

  override render(): ReactNode {
    if (this.state.failed) return <p className="scene-failed">The 3D view could not start ({this.state.failed}).</p>;
    return this.props.children;
  }
}

function useConnection(runtime: Runtime): ConnectionStatus {
  return useSyncExternalStore(
    (onChange) => runtime.client.onStatus(onChange),
    () => runtime.client.status,
  );
}

export function App({ runtime }: { runtime: Runtime }) {
  const conversation = useSyncExternalStore(runtime.store.subscribe, runtime.store.getSnapshot);
  const connection = useConnection(runtime);
  const diagnostics = useDiagnostics();
  const ready = connection === 'open' && conversation.sessionId !== null;
  const busy = diagnostics?.state === 'thinking' || diagnostics?.state === 'speaking';

  useEffect(() => {
    const onKeyDown = (event: KeyboardEvent): void => {
      if (event.key === 'Escape') runtime.interrupt();
    };
    window.addEventListener('keydown', onKeyDown);
    return () => window.removeEventListener('keydown', onKeyDown);
  }, [runtime]);

  return (
    <div className="app">
      <main className="stage">
        <SceneBoundary>
          <AvatarScene runtime={runtime} />
        </SceneBoundary>
        <StateIndicator
          state={diagnostics?.state ?? 'idle'}
          connection={connection}
          engineReady={conversation.engineReady}
          workers={conversation.workers}
        />
        <LatencyOverlay diagnostics={diagnostics} />
      </main>
      <section className="conversation" aria-label="Chat">
        <ErrorBanner errors={conversation.errors} onDismiss={(id) => runtime.store.dismissError(id)} />
        <Transcript entries={conversation.entries} />
        <MessageForm disabled={!ready} canStop={ready && busy} onSend={(text) => runtime.sendText(text)} onStop={() => runtime.interrupt()} />
      </section>
    </div>
  );
}
