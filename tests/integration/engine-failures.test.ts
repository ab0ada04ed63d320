import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineInstance } from '../../app/engine/create-engine';
import { AppError } from '../../app/shared/errors.contract';
import type { ServerMessage } from '../../app/shared/messages.contract';
import { scriptedConfig, startEngine, TestClient } from './engine-harness';

type ErrorMessage = Extract<ServerMessage, { type: 'error' }>;

describe('engine: worker failures end one turn, the session survives', () => {
  let engine: EngineInstance;
  let client: TestClient;
  let sessionId: string;

  beforeAll(async () => {
    engine = await startEngine(
      scriptedConfig(
        {
          vad: { count: 0 },
          stt: { count: 0 },
          llm: {
            options: {
              tokenMs: 2,
              failOn: [
                { contains: 'HANG', mode: 'hang' },
                { contains: 'MALFORMED', mode: 'malformed' },
                { contains: 'THROW', mode: 'throw' },
                { contains: 'BLOAT', mode: 'bloat' },
              ],
            },
          },
          tts: {
            // Its own host process: a crash there leaves the other workers warm.
            host: 'tts-host',
            options: {
              failOn: [
                { contains: 'CRASHHOST', mode: 'crash-host' },
                { contains: 'CRASHTHREAD', mode: 'crash-worker' },
              ],
            },
          },
        },
        { health: { pingIntervalMs: 150, pingDeadlineMs: 1500, memoryCeilingBytes: 120e6 }, hostRestartDelayMs: 50 },
      ),
    );
    client = new TestClient(engine);
    sessionId = await client.openSession();
  });
  afterAll(async () => engine?.shutdown());

  /** Runs a turn that should fail, then one that should succeed; returns the failure's error message. */
  async function failThenRecover(badText: string): Promise<ErrorMessage> {
    let from = client.messages.length;
    client.send({ type: 'user.text', sessionId, text: badText });
    const failed = await client.turnEnded(sessionId, from, 30_000);
    expect(failed.status).toBe('failed');
    const error = client.ofTurn('error', failed.turnId)[0]!;
    expect(error.recoverable).toBe(true);
    expect(error.message.length).toBeGreaterThan(10);

    from = client.messages.length;
    client.send({ type: 'user.text', sessionId, text: 'Are you back?' });
    const next = await client.turnEnded(sessionId, from, 30_000);
    expect(next.status).toBe('complete');
    expect(next.replyText).toContain('You said Are you back.');
    return error;
  }

  it('a runtime host process that dies mid-turn is respawned; the next turn works', async () => {
    const pidBefore = engine.pool.host('tts-host')!.pid;
    const otherHost = engine.pool.host('scripted')!.pid;
    const error = await failThenRecover('Please CRASHHOST now');
    expect(error.code).toBe('worker_crashed');
    expect(engine.pool.host('tts-host')!.pid).not.toBe(pidBefore);
    expect(engine.pool.host('scripted')!.pid).toBe(otherHost);
    // The session and its history survived the crash.
    const users = engine.session(sessionId)!.history.filter((m) => m.role === 'user').map((m) => m.content);
    expect(users).toEqual(['Please CRASHHOST now', 'Are you back?']);
  });

  it('a worker thread that exits is replaced in its host', async () => {
    const pid = engine.pool.host('tts-host')!.pid;
    const error = await failThenRecover('Please CRASHTHREAD now');
    expect(error.code).toBe('worker_crashed');
    expect(engine.pool.host('tts-host')!.pid).toBe(pid);
  });

  it('a hung worker is detected by ping and replaced', async () => {
    const hungId = engine.pool.workersOf('llm')[0]!.id;
    const error = await failThenRecover('Please HANG forever');
    expect(error.code).toBe('worker_hung');
    expect(engine.pool.workersOf('llm').map((w) => w.id)).not.toContain(hungId);
  });

  it('a worker over its memory ceiling is replaced', async () => {
    const error = await failThenRecover('Please BLOAT yourself');
    expect(error.code).toBe('worker_out_of_memory');
  });

  it('a worker message that breaks the protocol fails the turn with a typed error', async () => {
    const error = await failThenRecover('Please send MALFORMED output');
    expect(error.code).toBe('invalid_message');
  });

  it('an engine error inside the worker reaches the user as a recoverable error', async () => {
    const error = await failThenRecover('Please THROW');
    expect(error.code).toBe('internal');
  });

  it('the worker answers a malformed request with a typed error', async () => {
    const lease = await engine.pool.lease('tts', 'probe');
    try {
      const result = lease.worker.run({ kind: 'tts', text: '' } as never);
      await expect(result).rejects.toBeInstanceOf(AppError);
      await expect(result).rejects.toMatchObject({ code: 'invalid_message', recoverable: true });
    } finally {
      lease.release();
    }
  });

  it('an unknown session gets a typed error', async () => {
    const from = client.messages.length;
    client.send({ type: 'user.text', sessionId: 'nope', text: 'hi' });
    expect(await client.waitFor((m) => m.type === 'error', 5000, from)).toMatchObject({ code: 'unknown_session', sessionId: 'nope' });
  });
});
