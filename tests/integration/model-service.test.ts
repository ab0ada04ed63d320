import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureCatalog, fixtureLlmEntry } from '../support/fixture-catalog';
import type { ServerMessage } from '../../app/shared/messages.contract';
import type { Engine } from '../../app/engine/engine-api';
import { createModelManager } from '../../app/engine/models/model-manager';
import { createModelService } from '../../app/engine/models/model-service';
import { engineWithServices } from '../../app/engine/engine-with-services';
import { scriptedConfig, startEngine } from './engine-harness';

/** Model downloads driven by client messages, with progress to every client, over the real engine. */

const body = Buffer.concat([Buffer.from('GGUF'), Buffer.from([3, 0, 0, 0]), randomBytes(2 * 1024 * 1024)]);
let http: Server;
let engine: Engine;
let port = 0;

beforeAll(async () => {
  http = createServer((req, res) => {
    if (req.url !== '/model.gguf') return void res.writeHead(404).end();
    // Trickle the body so progress is observable.
    res.writeHead(200, { 'Content-Length': body.length, 'Content-Type': 'application/octet-stream' });
    let offset = 0;
    const timer = setInterval(() => {
      res.write(body.subarray(offset, offset + 256 * 1024));
      offset += 256 * 1024;
      if (offset >= body.length) {
        clearInterval(timer);
        res.end();
      }
    }, 30);
    res.on('close', () => clearInterval(timer));
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  port = (http.address() as AddressInfo).port;
  const catalog = fixtureCatalog(fixtureLlmEntry(`http://127.0.0.1:${port}/model.gguf`, body));
  const manager = createModelManager({ dir: mkdtempSync(join(tmpdir(), 'models-')), catalog, freeBytes: async () => 1e12, progressIntervalMs: 0 });
  engine = engineWithServices(await startEngine(scriptedConfig()), { models: createModelService(manager, () => []) });
});

afterAll(async () => {
  await engine?.shutdown();
  http?.close();
});

function client(): { messages: ServerMessage[]; send: (m: Parameters<ReturnType<Engine['connect']>['handle']>[0]) => void; next: <T extends ServerMessage['type']>(type: T) => Promise<Extract<ServerMessage, { type: T }>> } {
  const messages: ServerMessage[] = [];
  const waiters: Array<() => void> = [];
  const connection = engine.connect((message) => {
    messages.push(message);
    for (const waiter of [...waiters]) waiter();
  });
  return {
    messages,
    send: (message) => connection.handle(message),
    next: (type) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${type}`)), 20_000);
        const check = (): void => {
          const found = messages.find((message) => message.type === type);
          if (found) {
            clearTimeout(timer);
            resolve(found as never);
          }
        };
        waiters.push(check);
        check();
      }),
  };
}

describe('model service', () => {
  it('lists, downloads with progress to every client, and reports the installed model', async () => {
    const ui = client();
    const other = client();
    ui.send({ type: 'models.list' });
    const before = await ui.next('models.listing');
    expect(before.models).toEqual([expect.objectContaining({ id: 'tiny-llm', installed: false, sizeBytes: body.length })]);

    ui.send({ type: 'models.pull', modelId: 'tiny-llm' });
    const done = await ui.next('models.done');
    expect(done).toMatchObject({ modelId: 'tiny-llm', status: 'installed' });
    expect(done.path).toMatch(/tiny-llm\.gguf$/);
    const progress = ui.messages.filter((m): m is Extract<ServerMessage, { type: 'models.progress' }> => m.type === 'models.progress');
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.at(-1)!.totalBytes).toBe(body.length);
    expect(other.messages.some((m) => m.type === 'models.progress')).toBe(true);

    await new Promise((resolve) => setTimeout(resolve, 100));
    const after = ui.messages.filter((m) => m.type === 'models.listing').at(-1);
    expect(after).toMatchObject({ models: [expect.objectContaining({ id: 'tiny-llm', installed: true })] });
  });

  it('answers an unknown model with a failed status in words', async () => {
    const ui = client();
    ui.send({ type: 'models.pull', modelId: 'no-such-model' });
    const done = await ui.next('models.done');
    expect(done.status).toBe('failed');
    expect(done.message).toMatch(/no-such-model/);
  });
});
