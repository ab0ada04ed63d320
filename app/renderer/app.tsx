import { Component, type ReactNode, useEffect, useState, useSyncExternalStore } from 'react';
import { MicMode } from '../shared/settings.contract';
import { MicCapture } from './audio/mic-capture';
import { AvatarScene } from './avatar/avatar-scene';
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
import { ModelsPanel } from './ui/models-panel';
import { setMicDiagnosticsSource } from './state/diagnostics';
import { SettingsPanel } from './ui/settings-panel';
import { ShortcutsHelp } from './ui/shortcuts-help';
import { avatarStore } from './avatar/avatar-store';
import { SharePanel } from './share/share-panel';

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

/** Keys typed into a field are text, not shortcuts. */
function isTextTarget(target: EventTarget | null): boolean {
  return target instanceof HTMLElement && (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName));
}

function createMic(runtime: Runtime): MicCapture {
  return new MicCapture({
    sessionId: () => runtime.store.getSnapshot().sessionId,
    send: (message) => runtime.client.send(message),
    error: (code, message) => runtime.store.addError(code, message),
  });
}

/** Microphone wiring: diagnostics, `?mic=1` autostart, M toggles, Space is push-to-talk. */
function useMic(runtime: Runtime): MicCapture {
  const [mic] = useState(() => createMic(runtime));
  // Mode and device are settings: applied at start and whenever they change (before ?mic=1 starts it).
  useEffect(() => {
    let appliedDeviceId: string | null | undefined;
    const apply = (): void => {
      const { micMode, micDeviceId } = runtime.settings.getSnapshot().renderer;
      if (mic.getSnapshot().mode !== micMode) mic.setMode(micMode);
      if (micDeviceId !== appliedDeviceId) {
        appliedDeviceId = micDeviceId;
        mic.selectDevice(micDeviceId);
      }
    };
    apply();
    return runtime.settings.subscribe(apply);
  }, [mic, runtime]);
  useEffect(() => {
    setMicDiagnosticsSource(() => mic.diagnostics());
    if (new URLSearchParams(window.location.search).get('mic') === '1') void mic.start();
  }, [mic]);
  useEffect(() => {
    const onKeyDown = (event: KeyboardEvent): void => {
      if (isTextTarget(event.target) || event.ctrlKey || event.metaKey || event.altKey) return;
      if ((event.key === 'm' || event.key === 'M') && !event.repeat) mic.toggle();
      else if (event.code === 'Space' && mic.getSnapshot().mode === MicMode.PushToTalk) {
        event.preventDefault();
        runtime.player.resume();
        mic.setTalking(true);
      }
    };
    const onKeyUp = (event: KeyboardEvent): void => {
      if (event.code === 'Space') mic.setTalking(false);
    };
    const onBlur = (): void => mic.setTalking(false);
    window.addEventListener('keydown', onKeyDown);
    window.addEventListener('keyup', onKeyUp);
    window.addEventListener('blur', onBlur);
    return () => {
      window.removeEventListener('keydown', onKeyDown);
      window.removeEventListener('keyup', onKeyUp);
      window.removeEventListener('blur', onBlur);
    };
  }, [mic, runtime]);
  return mic;
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
        <SharePanel runtime={runtime} />
        <MessageForm disabled={!ready} canStop={ready && busy} onSend={(text) => runtime.sendText(text)} onStop={() => runtime.interrupt()} />
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
        <SettingsPanel settings={runtime.settings} mic={micStatus} onRefreshDevices={() => void mic.refreshDevices()} onClose={() => setDialog(null)} />
      )}
      {dialog === 'shortcuts' && <ShortcutsHelp onClose={() => setDialog(null)} />}
    </div>
  );
}
