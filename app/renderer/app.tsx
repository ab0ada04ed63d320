import { useEffect, useState, useSyncExternalStore } from 'react';
import { AvatarScene } from './avatar/avatar-scene';
import { SceneBoundary } from './avatar/scene-boundary';
import type { Runtime } from './state/runtime';
import type { ConnectionStatus } from './transport/engine-client';
import { ErrorBanner } from './ui/error-banner';
import { AvatarPicker } from './ui/avatar-picker';
import { LatencyOverlay } from './ui/latency-overlay';
import { MessageForm } from './ui/message-form';
import { StateIndicator } from './ui/state-indicator';
import { Transcript } from './ui/transcript';
import { useDiagnostics } from './ui/use-diagnostics';
import { MicControls } from './ui/mic-controls';
import { CameraControls, toggleCamera } from './ui/camera-controls';
import { ModelsPanel } from './ui/models-panel';
import { SettingsPanel } from './ui/settings-panel';
import { ShortcutsHelp } from './ui/shortcuts-help';
import { isTextTarget, useMic } from './ui/use-mic';
import { avatarStore } from './avatar/avatar-store';
import { SharePanel } from './share/share-panel';

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
  const mic = useMic(runtime);
  const micStatus = useSyncExternalStore(mic.subscribe, mic.getSnapshot);
  const [dialog, setDialog] = useState<'settings' | 'shortcuts' | null>(null);

  // The last loaded avatar's name is a setting (files cannot be reopened by name: the picker loads them).
  useEffect(
    () =>
      avatarStore.subscribe(() => {
        const { avatar, loading } = avatarStore.getSnapshot();
        const name = avatar?.rig.info.name.slice(0, 500) || null;
        if (loading === null && name !== runtime.settings.getSnapshot().renderer.avatar) runtime.settings.updateRenderer({ avatar: name });
      }),
    [runtime],
  );

  useEffect(() => {
    const onKeyDown = (event: KeyboardEvent): void => {
      if (event.key === 'Escape') runtime.interrupt();
      else if (event.key === ',' && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        setDialog('settings');
      } else if (isTextTarget(event.target) || event.ctrlKey || event.metaKey || event.altKey) return;
      else if (event.key === ',') setDialog('settings');
      else if (event.key === '?') setDialog('shortcuts');
      else if ((event.key === 'c' || event.key === 'C') && !event.repeat) toggleCamera(runtime.vision, runtime.settings);
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
          engineDegraded={conversation.engineDegraded}
        />
        <LatencyOverlay diagnostics={diagnostics} traces={conversation.recentTraces} />
        <AvatarPicker runtime={runtime} />
      </main>
      <section className="conversation" aria-label="Chat">
        <ErrorBanner errors={conversation.errors} engineDegraded={conversation.engineDegraded} onDismiss={(id) => runtime.store.dismissError(id)} />
        <Transcript entries={conversation.entries} />
        <ModelsPanel client={runtime.client} />
        <MicControls mic={mic} settings={runtime.settings} />
        <CameraControls vision={runtime.vision} settings={runtime.settings} />
        <SharePanel runtime={runtime} />
        <MessageForm disabled={!ready} canStop={ready && busy} onSend={(text) => runtime.sendText(text)} onStop={() => runtime.interrupt()} onDraft={(text) => runtime.noteDraft(text)} />
        <nav className="app-menu" aria-label="App">
          <button type="button" className="secondary" title="Settings (, or Ctrl+,)" onClick={() => setDialog('settings')}>
            Settings
          </button>
          <button type="button" className="secondary" title="Keyboard shortcuts (?)" onClick={() => setDialog('shortcuts')}>
            Shortcuts
          </button>
        </nav>
        <nav className="app-menu conversation-menu" aria-label="Conversation">
          <button type="button" className="secondary" disabled={!ready} title="Start over; the current conversation stays saved" onClick={() => runtime.newConversation()}>
            New conversation
          </button>
          <button type="button" className="secondary" disabled={!ready} title="Download this conversation as text" onClick={() => runtime.exportConversation('text')}>
            Export text
          </button>
          <button type="button" className="secondary" disabled={!ready} title="Download this conversation as JSON" onClick={() => runtime.exportConversation('json')}>
            Export JSON
          </button>
          {conversation.conversation && !conversation.conversation.kept && <span className="conversation-note">Not saved (settings: keep conversations)</span>}
        </nav>
      </section>
      {dialog === 'settings' && (
        <SettingsPanel settings={runtime.settings} mic={micStatus} vmc={runtime.vmc} onRefreshDevices={() => void mic.refreshDevices()} onClose={() => setDialog(null)} />
      )}
      {dialog === 'shortcuts' && <ShortcutsHelp onClose={() => setDialog(null)} />}
    </div>
  );
}
