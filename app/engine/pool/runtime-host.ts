import { Worker } from 'node:worker_threads';
import { ToHostSchema, type FromHost, type ToHost } from '../../shared/host.contract';
import { startWorkerThread as startWorker } from '../../native-workers/worker-thread';

/**
 * Process entry of a runtime host: runs model workers as worker_threads and relays their messages.
 * Native runtimes may abort this process; the engine in the parent survives and respawns it.
 */

const workers = new Map<string, Worker>();

/** Electron's utilityProcess talks through `process.parentPort`; a forked child through process IPC. */
interface UtilityParentPort {
  on(event: 'message', listener: (event: { data: unknown }) => void): void;
  postMessage(message: unknown): void;
}
const utilityPort = (process as unknown as { parentPort?: UtilityParentPort }).parentPort;

function send(message: FromHost): void {
  if (utilityPort) utilityPort.postMessage(message);
  // The parent may already be gone (it exits on a failed start); nothing is left to tell.
  else if (process.connected) process.send?.(message);
}

function onParentMessage(listener: (raw: unknown) => void): void {
  if (utilityPort) utilityPort.on('message', (event) => listener(event.data));
  else process.on('message', listener);
}


function spawn(workerId: string, entry: string): void {
  const worker = startWorker(entry);
  workers.set(workerId, worker);
  worker.on('message', (message: unknown) => send({ type: 'from-worker', workerId, message }));
  worker.on('error', (error) => send({ type: 'worker-error', workerId, message: error.message }));
  worker.on('exit', (exitCode) => {
    workers.delete(workerId);
    send({ type: 'worker-exit', workerId, exitCode });
  });
}

function transferablesOf(message: unknown): ArrayBuffer[] {
  const pcm = (message as { input?: { pcm?: unknown } } | null)?.input?.pcm;
  return pcm instanceof Float32Array && pcm.buffer instanceof ArrayBuffer ? [pcm.buffer] : [];
}

function waitForUnload(worker: Worker, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    worker.on('message', (message: { type?: string }) => {
      if (message?.type === 'unloaded' || message?.type === 'error') {
        clearTimeout(timer);
        resolve();
      }
    });
    worker.postMessage({ type: 'unload' });
  });
}

async function exitInOrder(timeoutMs: number): Promise<void> {
  await Promise.all([...workers.values()].map((worker) => waitForUnload(worker, timeoutMs)));
  await Promise.all([...workers.values()].map((worker) => worker.terminate()));
  process.exit(0);
}

onParentMessage((raw: unknown) => {
  const parsed = ToHostSchema.safeParse(raw);
  if (!parsed.success) {
    console.warn(`runtime host: ignored a message outside the contract: ${parsed.error.message}`);
    return;
  }
  const message: ToHost = parsed.data;
  switch (message.type) {
    case 'spawn':
      spawn(message.workerId, message.entry);
      return;
    case 'to-worker':
      workers.get(message.workerId)?.postMessage(message.message, transferablesOf(message.message));
      return;
    case 'terminate':
      void workers.get(message.workerId)?.terminate();
      return;
    case 'ping':
      send({ type: 'pong', nonce: message.nonce });
      return;
    case 'exit':
      void exitInOrder(message.timeoutMs);
      return;
  }
});

// The engine went away: nothing is left to serve.
process.on('disconnect', () => process.exit(0));

send({ type: 'host-ready', pid: process.pid });
