import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ServerMessage } from '../../app/shared/messages.contract';
import { ErrorCode } from '../../app/shared/errors.contract';
import { composeAppEngine, type AppEngine } from '../../app/engine/compose-app-engine';
import { CONVERSATIONS_FOLDER } from '../../app/engine/conversation/conversation-journal';
import { llmWindow } from '../../app/engine/conversation/llm-window';
import { AppEngineClient } from '../support/app-engine-client';

/**
 * Conversations kept across engine restarts: the real composition (settings file, journal in the
 * data folder) and the real engine with scripted workers in a real host process.
 */

type Loaded = Extract<ServerMessage, { type: 'conversation.loaded' }>;
type Exported = Extract<ServerMessage, { type: 'conversation.exported' }>;
type TurnEnded = Extract<ServerMessage, { type: 'turn.ended' }>;
type ErrorMessage = Extract<ServerMessage, { type: 'error' }>;

const dataDir = mkdtempSync(join(tmpdir(), 'avatar-conversations-'));
const folder = join(dataDir, CONVERSATIONS_FOLDER);
const journals = (): string[] => (existsSync(folder) ? readdirSync(folder).filter((name) => name.endsWith('.jsonl')).sort() : []);
let running: AppEngine | undefined;

afterAll(async () => {
  await running?.engine.shutdown();
  rmSync(dataDir, { recursive: true, force: true });
});

async function startApp(): Promise<AppEngine> {
  running = await composeAppEngine({ profile: 'scripted', dataDir, modelsDir: join(dataDir, 'models'), onWarning: () => undefined });
  await running.engine.start();
  return running;
}

async function stopApp(): Promise<void> {
  await running?.engine.shutdown();
  running = undefined;
}

class Client extends AppEngineClient {
  sessionId = '';
  /** Opens a session; resolves with the conversation it continues. */
  async open(): Promise<Loaded> {
    const from = this.messages.length;
    this.send({ type: 'session.open', requestId: 'r1' });
    const opened = await this.waitFor((m): m is Extract<ServerMessage, { type: 'session.opened' }> => m.type === 'session.opened', from);
    this.sessionId = opened.sessionId;
    return this.waitFor((m): m is Loaded => m.type === 'conversation.loaded', from);
  }
  async say(text: string): Promise<TurnEnded> {
    const from = this.messages.length;
    this.send({ type: 'user.text', sessionId: this.sessionId, text });
    return this.waitFor((m): m is TurnEnded => m.type === 'turn.ended', from);
  }
  async export(format: 'text' | 'json'): Promise<Exported> {
    const from = this.messages.length;
    this.send({ type: 'conversation.export', sessionId: this.sessionId, format });
    return this.waitFor((m): m is Exported => m.type === 'conversation.exported', from);
  }
}

describe('conversations kept across restarts', () => {
  let firstConversationId = '';

  it('journals two turns; after a restart a new session continues them (page and LLM context)', async () => {
    let app = await startApp();
    let client = new Client(app);
    const fresh = await client.open();
    expect(fresh).toMatchObject({ entries: [], kept: true });
    firstConversationId = fresh.conversationId;
    const first = await client.say('My name is Ada.');
    const second = await client.say('What is my name?');
    expect(first.status).toBe('complete');
    expect(second.status).toBe('complete');
    client.connection.close();
    await stopApp();
    // A crash while writing the next line leaves a torn tail: it is dropped, not fatal.
    appendFileSync(join(folder, `${firstConversationId}.jsonl`), '{"type":"user","turnId":"x","te');

    app = await startApp();
    client = new Client(app);
    const restored = await client.open();
    expect(restored.conversationId).toBe(firstConversationId);
    expect(restored.kept).toBe(true);
    expect(restored.entries.map((entry) => [entry.type, entry.turnId, entry.text])).toEqual([
      ['user', first.turnId, 'My name is Ada.'],
      ['avatar', first.turnId, first.heardText],
      ['user', second.turnId, 'What is my name?'],
      ['avatar', second.turnId, second.heardText],
    ]);
    for (const entry of restored.entries) expect(entry.atMs).toBeGreaterThan(Date.now() - 60_000);
    expect(client.messages.filter((m) => m.type === 'error')).toEqual([]);

    // The LLM's next request carries the earlier turns: history restored, then the new user message.
    const third = await client.say('And what did I ask you?');
    const history = app.instance.session(client.sessionId)!.history;
    const request = llmWindow(history.slice(0, -1), app.config.pipeline.maxHistoryMessages);
    expect(request.map((message) => [message.role, message.content])).toEqual([
      ['system', history[0]!.content],
      ['user', 'My name is Ada.'],
      ['assistant', first.heardText],
      ['user', 'What is my name?'],
      ['assistant', second.heardText],
      ['user', 'And what did I ask you?'],
    ]);
    expect(third.status).toBe('complete');
    client.connection.close();
  });

  it('exports the current conversation as text and as JSON', async () => {
    const client = new Client(running!);
    const loaded = await client.open();
    expect(loaded.entries).toHaveLength(6);

    const text = await client.export('text');
    expect(text).toMatchObject({ conversationId: firstConversationId, format: 'text', fileName: `conversation-${firstConversationId}.txt` });
    const lines = text.content.trim().split('\n');
    expect(lines.filter((line) => /\] You: /.test(line))).toHaveLength(3);
    expect(lines.filter((line) => /\] Avatar: /.test(line))).toHaveLength(3);
    expect(text.content).toContain('You: My name is Ada.');

    const json = await client.export('json');
    expect(json.fileName).toBe(`conversation-${firstConversationId}.json`);
    const document = JSON.parse(json.content) as { conversationId: string; messages: Array<{ role: string; text: string; at: string }> };
    expect(document.conversationId).toBe(firstConversationId);
    expect(document.messages.map((message) => message.role)).toEqual(['user', 'avatar', 'user', 'avatar', 'user', 'avatar']);
    expect(document.messages[0]).toMatchObject({ text: 'My name is Ada.', at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/) });
    client.connection.close();
  });

  it('"new conversation" empties history in a new journal; the old one stays; the next start continues the new one', async () => {
    let client = new Client(running!);
    await client.open();
    const from = client.messages.length;
    client.send({ type: 'conversation.new', sessionId: client.sessionId });
    const started = await client.waitFor((m): m is Loaded => m.type === 'conversation.loaded', from);
    expect(started.entries).toEqual([]);
    expect(started.conversationId).not.toBe(firstConversationId);
    expect(running!.instance.session(client.sessionId)!.history.map((message) => message.role)).toEqual(['system']);
    expect(journals()).toEqual([`${firstConversationId}.jsonl`, `${started.conversationId}.jsonl`]);
    await client.say('A fresh start.');
    expect(running!.instance.session(client.sessionId)!.history.map((message) => message.role)).toEqual(['system', 'user', 'assistant']);
    client.connection.close();
    await stopApp();

    client = new Client(await startApp());
    const continued = await client.open();
    expect(continued.conversationId).toBe(started.conversationId);
    expect(continued.entries.map((entry) => entry.text)[0]).toBe('A fresh start.');
    client.connection.close();
  });

  it('reports a journal that cannot be written as a typed error; the conversation goes on in memory and is saved once it can be', async () => {
    const client = new Client(running!);
    const { conversationId } = await client.open();
    const path = join(folder, `${conversationId}.jsonl`);
    const saved = readFileSync(path);
    // Something that cannot be appended to stands where the journal was (as a full disk or a lost permission would).
    rmSync(path);
    mkdirSync(path);
    const ended = await client.say('Can you still hear me?');
    expect(ended.status).toBe('complete');
    const error = await client.waitFor((m): m is ErrorMessage => m.type === 'error');
    expect(error).toMatchObject({ code: ErrorCode.JournalWriteFailed, recoverable: true, sessionId: client.sessionId });
    expect(error.message).toMatch(/could not be saved.*goes on in memory/);
    const history = running!.instance.session(client.sessionId)!.history;
    expect(history.at(-2)).toEqual({ role: 'user', content: 'Can you still hear me?' });

    rmSync(path, { recursive: true });
    writeFileSync(path, saved);
    await client.say('And now?');
    client.connection.close();
    await stopApp();
    const texts = (await new Client(await startApp()).open()).entries.map((entry) => entry.text);
    expect(texts).toEqual(expect.arrayContaining(['A fresh start.', 'Can you still hear me?', 'And now?']));
    expect(texts.filter((text) => text === 'Can you still hear me?')).toHaveLength(1);
  });

  it('a damaged journal loses nothing readable and is reported to the page; "don\'t keep" deletes the journals and writes nothing', async () => {
    await stopApp();
    const files = journals();
    const newest = join(folder, files.at(-1)!);
    appendFileSync(newest, 'garbage that is not JSON\n');
    let client = new Client(await startApp());
    const loaded = await client.open();
    expect(loaded.entries.map((entry) => entry.text)).toContain('Can you still hear me?');
    const damaged = await client.waitFor((m): m is ErrorMessage => m.type === 'error' && m.code === ErrorCode.JournalDamaged);
    expect(damaged.message).toMatch(/1 unreadable line .*skipped.*everything readable was kept/);

    const from = client.messages.length;
    client.send({ type: 'settings.set', settings: { vad: {}, poolSizes: {}, models: {}, conversations: { keep: 'none' } } });
    await client.waitFor((m) => m.type === 'settings.current', from);
    for (let i = 0; i < 50 && journals().length > 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(journals()).toEqual([]);
    await client.say('Forget this.');
    client.connection.close();
    await stopApp();
    expect(journals()).toEqual([]);

    client = new Client(await startApp());
    const unkept = await client.open();
    expect(unkept).toMatchObject({ entries: [], kept: false });
    client.connection.close();
  });
});
