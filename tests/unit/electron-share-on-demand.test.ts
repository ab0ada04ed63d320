import { describe, expect, it } from 'vitest';
import { OnDemandService } from '../../app/hosts/electron/on-demand-service';

/** The desktop share server starts when the window first asks for it, once, and closes at quit. */

class FakeServer {
  closed = 0;
  constructor(readonly id: number) {}
  async close(): Promise<void> {
    this.closed++;
  }
}

/** A start function that counts calls and resolves or fails when the test says so. */
function controlledStart() {
  const pending: { resolve: (server: FakeServer) => void; reject: (error: Error) => void }[] = [];
  let calls = 0;
  const start = (): Promise<FakeServer> => {
    calls++;
    return new Promise((resolve, reject) => pending.push({ resolve, reject }));
  };
  return { start, calls: () => calls, pending };
}

describe('OnDemandService', () => {
  it('starts nothing until asked, then starts once and reuses the service', async () => {
    let calls = 0;
    const service = new OnDemandService(async () => new FakeServer(++calls));
    expect(calls).toBe(0);
    expect(service.current).toBeNull();
    const first = await service.get();
    const second = await service.get();
    expect(calls).toBe(1);
    expect(second).toBe(first);
    expect(service.current).toBe(first);
  });

  it('gives concurrent callers the one start in flight', async () => {
    const control = controlledStart();
    const service = new OnDemandService(control.start);
    const callers = [service.get(), service.get(), service.get()];
    expect(control.calls()).toBe(1);
    expect(service.current).toBeNull();
    control.pending[0]!.resolve(new FakeServer(1));
    const servers = await Promise.all(callers);
    expect(new Set(servers).size).toBe(1);
    expect(control.calls()).toBe(1);
  });

  it('forgets a failed start, so the next caller tries again', async () => {
    const control = controlledStart();
    const service = new OnDemandService(control.start);
    const failing = [service.get(), service.get()];
    control.pending[0]!.reject(new Error('EADDRINUSE'));
    for (const attempt of failing) await expect(attempt).rejects.toThrow('EADDRINUSE');
    expect(service.current).toBeNull();
    const retry = service.get();
    expect(control.calls()).toBe(2);
    control.pending[1]!.resolve(new FakeServer(2));
    expect((await retry).id).toBe(2);
  });

  it('turns a start that throws at once into a rejection', async () => {
    const service = new OnDemandService<FakeServer>(() => {
      throw new Error('bad options');
    });
    await expect(service.get()).rejects.toThrow('bad options');
  });

  it('closes the running service at quit and starts nothing afterwards', async () => {
    let calls = 0;
    const service = new OnDemandService(async () => new FakeServer(++calls));
    const server = await service.get();
    await service.close();
    expect(server.closed).toBe(1);
    expect(service.current).toBeNull();
    await expect(service.get()).rejects.toThrow('quitting');
    expect(calls).toBe(1);
  });

  it('closes a service whose start was still in flight at quit, and copes with a failed or absent one', async () => {
    const control = controlledStart();
    const service = new OnDemandService(control.start);
    const caller = service.get();
    const closing = service.close();
    const late = new FakeServer(1);
    control.pending[0]!.resolve(late);
    await closing;
    expect(late.closed).toBe(1);
    expect(await caller).toBe(late);

    await new OnDemandService(async () => new FakeServer(2)).close();
    const failed = new OnDemandService<FakeServer>(() => Promise.reject(new Error('no port')));
    await expect(failed.get()).rejects.toThrow('no port');
    await failed.close();
  });
});
