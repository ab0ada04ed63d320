import type { ExportFormat } from '../../shared/conversation.contract';
import { ErrorCode } from '../../shared/errors.contract';
import { TtsPlayer } from '../audio/tts-player';
import { createLipSync } from '../lipsync/create-lipsync';
import type { LipSync } from '../lipsync/lipsync';
import { createEngineClient } from '../transport/create-engine-client';
import { followConversation, pageConversationId } from '../transport/page-conversation';
import type { ConnectionStatus, EngineClient } from '../transport/engine-client';
import { ConversationStore } from './conversation-store';
import { SettingsStore } from './settings-store';
import { VmcOutput } from '../vmc/vmc-output';
import { VisionBackendSchema, type VisionBackend } from '../../shared/vision.contract';
import { VisionLoop } from '../vision/vision-loop';
import { TurnActivity, visionHoldReason } from '../vision/vision-hold';

/** Everything the page runs on, created once at start-up and shared by the UI and the 3D view. */
export interface Runtime {
  client: EngineClient;
  player: TtsPlayer;
  lipSync: LipSync;
  store: ConversationStore;
  /** Renderer settings (localStorage) and the engine's settings as it reports them. */
  settings: SettingsStore;
  /** VMC output: the avatar's face to the engine every frame while the engine sends VMC. */
  vmc: VmcOutput;
  /** The camera and what the avatar sees (off until the user turns it on). */
  vision: VisionLoop;
  /** Current transport status (for the UI). */
  connection(): ConnectionStatus;
  /** Sends typed text as a user turn; false (with an error shown) when there is no session. */
  sendText(text: string): boolean;
  /** The message box's draft changed (typing starts a turn: the camera's loop leaves the CPU to it). */
  noteDraft(text: string): void;
  /** Asks the engine to stop the current reply. */
  interrupt(): void;
  /** Starts a new conversation (the engine keeps the old one); false when there is no session. */
  newConversation(): boolean;
  /** Asks for the conversation as a file; the page downloads it when the engine answers. */
  exportConversation(format: ExportFormat): boolean;
}

/** How long a downloaded file's object URL stays valid (the browser reads it after the click). */
const DOWNLOAD_URL_LIFETIME_MS = 60_000;

/** Saves `content` as a file through the browser's download (Electron: its save dialog). */
function download(fileName: string, content: string, mimeType: string): void {
  const url = URL.createObjectURL(new Blob([content], { type: mimeType }));
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  link.rel = 'noopener';
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), DOWNLOAD_URL_LIFETIME_MS);
}

/**
 * A pooled renderer (`?remote=1`) talks with strangers: their conversations are never kept nor
 * continued. `?conversation=none` asks the same for this page (a demo or kiosk: nothing kept);
 * `?conversation=<id>` continues that conversation (behind a load balancer, on whichever engine).
 */
function sessionConversation(): string {
  const params = new URLSearchParams(window.location.search);
  if (params.get('remote') === '1' || params.get('conversation') === 'none') return 'none';
  return pageConversationId() ?? 'last';
}

/** The perception backend: `auto` unless the address asks for one (`?visionBackend=webgl`: the bench compares them). */
function visionBackend(): VisionBackend {
  const parsed = VisionBackendSchema.safeParse(new URLSearchParams(window.location.search).get('visionBackend'));
  return parsed.success ? parsed.data : 'auto';
}

function newRequestId(): string {
  return crypto.randomUUID();
}

export function createRuntime(): Runtime {
  const store = new ConversationStore();
  const lipSync = createLipSync();
  const client = createEngineClient();
  // A reply the engine already finished may still be playing after the connection was lost: its
  // progress belongs to a session that is gone, and is neither sent to the new one nor an error.
  const player = new TtsPlayer(lipSync, (progress) => {
    if (client.status === 'open' && progress.sessionId === store.getSnapshot().sessionId) client.send(progress);
  });
  const settings = new SettingsStore();
  settings.attach(client);
  const vmc = new VmcOutput(client);
  const interrupt = (): void => {
    const sessionId = store.getSnapshot().sessionId;
    if (sessionId) client.send({ type: 'turn.interrupt', sessionId });
  };
  // What the user does that starts a turn (typing, speaking, sending): the camera's loop holds for it.
  const activity = new TurnActivity();
  const awaitingFirstAudio = (): boolean => {
    const turnId = store.getSnapshot().activeTurnId;
    return turnId !== null && !player.hasStarted(turnId);
  };
  const vision = new VisionLoop(
    {
      sessionId: () => store.getSnapshot().sessionId,
      send: (message) => client.send(message),
      // The reply being heard, also after the engine ended its turn (generation ends before playback does).
      speakingTurnId: () => {
        const turnId = store.getSnapshot().activeTurnId;
        return turnId !== null && player.hasStarted(turnId) ? turnId : player.audibleTurnId();
      },
      inReply: () => store.getSnapshot().activeTurnId !== null || player.audibleTurnId() !== null,
      holdReason: () => visionHoldReason(activity.snapshot(awaitingFirstAudio()), performance.now()),
      stopReply: interrupt,
      greetOnArrival: () => settings.getSnapshot().renderer.greetOnArrival,
    },
    visionBackend(),
  );
  // A settings file or saved page settings that could not be read: said once, in the error banner.
  const warned = new Set<string>();
  const warnSettings = (): void => {
    const { warning, engine } = settings.getSnapshot();
    for (const text of [warning, engine?.warning]) {
      if (!text || warned.has(text)) continue;
      warned.add(text);
      store.addError(ErrorCode.Internal, text);
    }
  };
  warnSettings();
  settings.subscribe(warnSettings);

  client.onStatus((status) => {
    if (status === 'closed') {
      activity.reset();
      // The engine ends a lost connection's session and the turn in progress: what the page was
      // still saying of it stops.
      const { activeTurnId } = store.getSnapshot();
      if (activeTurnId) player.stop(activeTurnId);
      return;
    }
    if (status !== 'open') return;
    // A new connection is a new engine connection: open a session on it.
    const requestId = newRequestId();
    store.expectSession(requestId);
    client.send({ type: 'session.open', requestId, conversation: sessionConversation() });
  });

  client.onMessage((message) => {
    store.handle(message);
    switch (message.type) {
      case 'turn.started':
        vision.noteTurnStarted(message.source);
        activity.turnStarted();
        vision.refreshHold();
        return;
      case 'vad':
        activity.vad(message.event, performance.now());
        vision.refreshHold();
        return;
      case 'tts.chunk':
        if (message.sessionId === store.getSnapshot().sessionId) player.enqueue(message);
        return;
      case 'turn.stop':
        player.stop(message.turnId);
        return;
      case 'turn.duck':
        player.duck(message.turnId, message.ducked);
        return;
      case 'turn.ended':
        if (message.status !== 'complete') player.stop(message.turnId);
        return;
      case 'conversation.exported':
        if (message.sessionId === store.getSnapshot().sessionId) download(message.fileName, message.content, message.format === 'json' ? 'application/json' : 'text/plain');
        return;
      case 'conversation.loaded': {
        // A new conversation: whatever the last one was still saying stops.
        const { activeTurnId, sessionId } = store.getSnapshot();
        if (activeTurnId) player.stop(activeTurnId);
        if (message.sessionId === sessionId) followConversation(message.conversationId);
        return;
      }
      default:
        return;
    }
  });

  // Browsers keep an AudioContext suspended until the page gets a gesture.
  for (const event of ['pointerdown', 'keydown']) window.addEventListener(event, () => player.resume(), { passive: true });

  return {
    client,
    player,
    lipSync,
    store,
    settings,
    vmc,
    vision,
    connection: () => client.status,
    sendText(text: string): boolean {
      const sessionId = store.getSnapshot().sessionId;
      if (!sessionId) {
        store.addError(ErrorCode.UnknownSession, 'Not connected to the engine yet: the message was not sent.');
        return false;
      }
      player.resume();
      store.addUserText(text);
      activity.sent(performance.now());
      vision.refreshHold();
      client.send({ type: 'user.text', sessionId, text });
      return true;
    },
    noteDraft(text: string): void {
      activity.draft(text, performance.now());
      vision.refreshHold();
    },
    interrupt,
    newConversation(): boolean {
      const sessionId = store.getSnapshot().sessionId;
      if (!sessionId) return false;
      client.send({ type: 'conversation.new', sessionId });
      return true;
    },
    exportConversation(format: ExportFormat): boolean {
      const sessionId = store.getSnapshot().sessionId;
      if (!sessionId) return false;
      client.send({ type: 'conversation.export', sessionId, format });
      return true;
    },
  };
}
