import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { ErrorBanner } from '../../app/renderer/ui/error-banner';
import { StateIndicator } from '../../app/renderer/ui/state-indicator';
import { encodeBinaryFrame, decodeBinaryFrame } from '../../app/shared/binary-frame';
import { avatarState } from '../../app/renderer/state/avatar-state';
import { ConversationStore } from '../../app/renderer/state/conversation-store';
import { validateIncoming } from '../../app/renderer/transport/validate-incoming';

describe('validateIncoming', () => {
  it('passes valid engine messages, including binary TTS chunks', () => {
    const pcm = new Float32Array([0, 0.5, -0.5]);
    const frame = encodeBinaryFrame({
      type: 'tts.chunk',
      sessionId: 's',
      turnId: 't',
      seq: 0,
      text: 'hi',
      sampleRateHz: 22050,
      phonemes: [{ phoneme: 'h', startMs: 0, endMs: 40 }],
      pcm,
    });
    const message = validateIncoming(decodeBinaryFrame(frame));
    expect(message.type).toBe('tts.chunk');
    expect(message.type === 'tts.chunk' && Array.from(message.pcm)).toEqual([0, 0.5, -0.5]);
  });

  it('turns an invalid message into an error the page can show', () => {
    const message = validateIncoming({ type: 'reply.delta', sessionId: 's' });
    expect(message).toMatchObject({ type: 'error', code: 'invalid_message', recoverable: true });
    expect(message.type === 'error' && message.message).toContain('reply.delta');
    expect(validateIncoming('nonsense')).toMatchObject({ type: 'error', code: 'invalid_message' });
  });
});

describe('ConversationStore', () => {
  it('takes the session id only from the reply to its own request', () => {
    const store = new ConversationStore();
    store.expectSession('r2');
    store.handle({ type: 'session.opened', requestId: 'r1', sessionId: 'old' });
    expect(store.getSnapshot().sessionId).toBeNull();
    store.handle({ type: 'session.opened', requestId: 'r2', sessionId: 's2' });
    expect(store.getSnapshot().sessionId).toBe('s2');
  });

  it('streams the reply and settles it when the turn ends', () => {
    const store = new ConversationStore();
    store.addUserText('Hello');
    store.handle({ type: 'turn.started', sessionId: 's', turnId: 't', source: 'text', userText: 'Hello' });
    expect(store.getSnapshot().activeTurnId).toBe('t');
    store.handle({ type: 'reply.delta', sessionId: 's', turnId: 't', text: 'Hi' });
    store.handle({ type: 'reply.delta', sessionId: 's', turnId: 't', text: ' there.' });
    expect(store.getSnapshot().entries.map((e) => [e.role, e.text, e.pending])).toEqual([
      ['user', 'Hello', false],
      ['avatar', 'Hi there.', true],
    ]);
    store.handle({ type: 'turn.ended', sessionId: 's', turnId: 't', status: 'complete', replyText: 'Hi there.', heardText: 'Hi there.', chunkCount: 1 });
    expect(store.getSnapshot().entries[1]).toMatchObject({ text: 'Hi there.', pending: false });
    expect(store.getSnapshot().activeTurnId).toBeNull();
  });

  it('keeps what was heard of an interrupted reply', () => {
    const store = new ConversationStore();
    store.handle({ type: 'reply.delta', sessionId: 's', turnId: 't', text: 'One. Two. Three.' });
    store.handle({ type: 'turn.ended', sessionId: 's', turnId: 't', status: 'interrupted', replyText: 'One. Two. Three.', heardText: 'One.', chunkCount: 3 });
    expect(store.getSnapshot().entries[0]).toMatchObject({ text: 'One.', interrupted: true });
  });

  it('says why the engine could not start until a status says it runs again', () => {
    const store = new ConversationStore();
    expect(store.getSnapshot().engineDegraded).toBeNull();
    store.handle({ type: 'engine.status', ready: false, workers: [], degraded: { reason: 'Whisper model "/etc/hostname" is truncated.' } });
    expect(store.getSnapshot()).toMatchObject({ engineReady: false, engineDegraded: 'Whisper model "/etc/hostname" is truncated.' });
    const page = renderToStaticMarkup(
      createElement('div', null, [
        createElement(StateIndicator, { key: 's', state: 'idle', connection: 'open', engineReady: false, workers: [], engineDegraded: store.getSnapshot().engineDegraded }),
        createElement(ErrorBanner, { key: 'e', errors: [], engineDegraded: store.getSnapshot().engineDegraded, onDismiss: () => undefined }),
      ]),
    );
    expect(page).toContain('Engine not running');
    expect(page).toContain('The engine could not start:</strong> Whisper model &quot;/etc/hostname&quot; is truncated.');
    store.handle({ type: 'engine.status', ready: true, workers: [] });
    expect(store.getSnapshot().engineDegraded).toBeNull();
  });

  it('shows engine errors', () => {
    const store = new ConversationStore();
    store.handle({ type: 'error', code: 'worker_crashed', message: 'The LLM stopped.', recoverable: true });
    expect(store.getSnapshot().errors).toMatchObject([{ code: 'worker_crashed', message: 'The LLM stopped.' }]);
  });
});

describe('avatarState', () => {
  const base = { audible: false, audioPending: false, turnActive: false, turnAudioStarted: false, listening: false };
  it('is thinking from turn start until the first audio is heard, then speaking until the audio ends', () => {
    expect(avatarState(base)).toBe('idle');
    expect(avatarState({ ...base, turnActive: true })).toBe('thinking');
    expect(avatarState({ ...base, turnActive: true, audioPending: true })).toBe('thinking');
    expect(avatarState({ ...base, turnActive: true, audible: true })).toBe('speaking');
    expect(avatarState({ ...base, turnActive: true, turnAudioStarted: true })).toBe('speaking');
    expect(avatarState({ ...base, audioPending: true })).toBe('speaking');
    expect(avatarState({ ...base, listening: true })).toBe('listening');
  });
});
