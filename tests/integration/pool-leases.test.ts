import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forkHostLauncher } from '../../app/engine/pool/host-launcher';
import { WorkerPool } from '../../app/engine/pool/worker-pool';
import type { LoadSpec, WorkerKind } from '../../app/shared/worker.contract';
import type { EngineInstance } from '../../app/engine/create-engine';
import { createEngine } from '../../app/engine/create-engine';
import { scriptedConfig, TestClient } from './engine-harness';

const spec = (kind: WorkerKind, options: Record<string, unknown> = {}): LoadSpec => ({ kind, engine: 'scripted', modelName: `scripted-${kind}`, threads: 1, options });

describe('warm pool leases (real host process and worker threads)', () => {
  let pool: WorkerPool;

  beforeAll(async () => {
    pool = new WorkerPool({
      kinds: {
        llm: { count: 2, spec: spec('llm'), affinity: 'exclusive' },
        tts: { count: 1, spec: spec('tts') },
        vad: { count: 1, spec: spec('vad'), affinity: 'shared' },
      },
      launcher: forkHostLauncher,
      leaseTimeoutMs: 300,
      health: { pingIntervalMs: 1000, pingDeadlineMs: 3000, memoryCeilingBytes: 2e9 },
      hostRestartDelayMs: 50,
      shutdownTimeoutMs: 3000,
    });
    await pool.start();
  });
  afterAll(async () => pool?.shutdown());

  it('has every worker loaded before anyone asks', () => {
    expect(pool.ready).toBe(true);
    expect(pool.status().map((s) => s.state)).toEqual(['ready', 'ready', 'ready', 'ready']);
  });

  it('starts its host with the offline switches and two malloc arenas', () => {
    const pid = pool.host('scripted')?.pid;
    expect(pid).toBeGreaterThan(0);
    const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
    expect(environ).toContain('ORT_DISABLE_TELEMETRY=1');
    expect(environ).toContain(`MALLOC_ARENA_MAX=${process.env.MALLOC_ARENA_MAX || '2'}`);
  });

  it('leases an LLM worker back to the session whose KV cache it holds', async () => {
    const served = new Map<string, Set<string>>();
    let hits = 0;
    for (let round = 0; round < 3; round++) {
      for (const session of ['a', 'b']) {
        const lease = await pool.lease('llm', session);
        served.set(session, (served.get(session) ?? new Set()).add(lease.worker.id));
        if (lease.stickyHit) hits++;
        lease.release();
      }
    }
    expect(served.get('a')!.size).toBe(1);
    expect(served.get('b')!.size).toBe(1);
    expect([...served.get('a')!][0]).not.toBe([...served.get('b')!][0]);
    expect(hits).toBe(4);
  });

  it('ends the sticky claim with the session', async () => {
    pool.endSession('a');
    pool.endSession('b');
    const lease = await pool.lease('llm', 'c');
    expect(lease.stickyHit).toBe(false);
    expect([...lease.worker.sessions]).toEqual(['c']);
    lease.release();
    pool.endSession('c');
    expect(pool.workersOf('llm').every((w) => w.sessions.size === 0)).toBe(true);
  });

  it('hands a session’s VAD stream back to the same worker even when many sessions share it', async () => {
    const first = await pool.lease('vad', 's1');
    first.release();
    const other = await pool.lease('vad', 's2');
    other.release();
    const again = await pool.lease('vad', 's1');
    expect(again.worker).toBe(first.worker);
    expect(again.stickyHit).toBe(true);
    again.release();
  });

  it('queues a waiter until a worker returns', async () => {
    const held = await pool.lease('tts', 'x');
    const waiting = pool.lease('tts', 'y');
    setTimeout(() => held.release(), 50);
    const lease = await waiting;
    expect(lease.worker).toBe(held.worker);
    lease.release();
  });

  it('fails a waiter with pool_exhausted after the lease timeout', async () => {
    const held = await pool.lease('tts', 'x');
    try {
      await expect(pool.lease('tts', 'y')).rejects.toMatchObject({ code: 'pool_exhausted', recoverable: true });
    } finally {
      held.release();
    }
  });

  it('a lease wait ends when its turn aborts', async () => {
    const held = await pool.lease('tts', 'x');
    const controller = new AbortController();
    const waiting = pool.lease('tts', 'y', controller.signal);
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ code: 'cancelled' });
    held.release();
  });
});

describe('engine: warm-up status and pool exhaustion reach the user', () => {
  let engine: EngineInstance;
  let early: TestClient;

  beforeAll(async () => {
    engine = createEngine(scriptedConfig({ vad: { count: 0 }, stt: { count: 0 }, llm: { options: { tokenMs: 50, replySentences: 4 } } }, { leaseTimeoutMs: 200 }));
    // A client connected before the pool is warm.
    early = new TestClient(engine);
    await engine.start();
  });
  afterAll(async () => engine?.shutdown());

  it('tells an early client when the workers become ready', async () => {
    expect(early.messages[0]).toMatchObject({ type: 'engine.status', ready: false });
    const ready = await early.waitFor((m) => m.type === 'engine.status' && m.ready);
    if (ready.type !== 'engine.status') return;
    expect(ready.workers.map((w) => `${w.kind}:${w.state}`).sort()).toEqual(['llm:ready', 'tts:ready']);
  });

  it('a second session finds the only LLM busy and gets a clear recoverable error', async () => {
    const client = new TestClient(engine);
    const first = await client.openSession();
    const second = await client.openSession();
    client.send({ type: 'user.text', sessionId: first, text: 'A long answer please' });
    await client.waitFor((m) => m.type === 'reply.delta' && m.sessionId === first);
    client.send({ type: 'user.text', sessionId: second, text: 'Me too' });
    const failed = await client.turnEnded(second);
    expect(failed.status).toBe('failed');
    expect(client.ofTurn('error', failed.turnId)[0]).toMatchObject({ code: 'pool_exhausted', recoverable: true });
    expect((await client.turnEnded(first)).status).toBe('complete');
  });
});
