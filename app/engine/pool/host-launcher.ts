import { fork } from 'node:child_process';
import { OFFLINE_NATIVE_ENV } from '../../native-workers/offline-env';
import { entryPath, sourceExecArgv } from '../app-paths';
import type { ToHost } from '../../shared/host.contract';

/** A running runtime host process as the engine sees it, whatever launched it. */
export interface HostChannel {
  readonly pid: number | undefined;
  send(message: ToHost): void;
  /** Raw messages from the host; HostProcess validates them against FromHostSchema. */
  onMessage(listener: (message: unknown) => void): void;
  /** Called once when the process is gone (crash, kill or exit). */
  onExit(listener: (description: string) => void): void;
  kill(): void;
}

/**
 * Starts runtime host processes. `serve`, tests and benches use the fork launcher; the Electron
 * shell injects one based on `utilityProcess.fork` (same entry, same messages).
 */
export interface HostLauncher {
  launch(name: string): HostChannel;
}

/**
 * Environment of a runtime host process: the offline switches, and malloc settings unless the user
 * chose their own (measured with 60 transcriptions of 2–10 s on tiny.en, 150 Piper phrases, 200 LLM
 * replies; see the README's soak notes).
 * - At most two malloc arenas. glibc gives each thread that allocates its own arena (up to 8 per
 *   core); whisper.cpp, onnxruntime and llama.cpp allocate their working buffers on whichever pool
 *   thread runs the job, so every arena ends up holding a peak working set. The whisper host levels
 *   off at about 340 MB instead of 515 MB, no slower per job; the Piper and llama hosts level off either way.
 * - The whisper host: large blocks always mapped afresh. The binding builds a new whisper state (tens
 *   of MB of buffers) for every transcription; with glibc's sliding mmap threshold those buffers land
 *   in the heap after the first free and their pages stay. Mapped, they go back to the OS on free: the
 *   host stays at about 250 MB, for 2–3 % more CPU per transcription. (Piper's onnxruntime keeps its
 *   own arena, where this only cost memory.)
 * - The llama host too: over 40 replies with growing histories it went 505 → 447 → 465 MB (a slow
 *   climb after the first twenty) with glibc's sliding threshold and 497 → 438 → 441 MB with this, for
 *   the same CPU per reply.
 */
export function runtimeHostEnv(hostName: string, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base, ...OFFLINE_NATIVE_ENV, MALLOC_ARENA_MAX: base.MALLOC_ARENA_MAX || '2' };
  if (hostName === 'whisper' || hostName === 'llama') env.MALLOC_MMAP_THRESHOLD_ = base.MALLOC_MMAP_THRESHOLD_ || String(1024 * 1024);
  return env;
}

/** Path of the runtime host entry (source `.ts` under tsx, or the built `out/main/runtime-host.js`). */
export const runtimeHostEntry = entryPath('runtime-host', 'app/engine/pool/runtime-host.ts');

/** Launches hosts with `child_process.fork` and structured-clone (`advanced`) serialization, so PCM stays binary. */
export const forkHostLauncher: HostLauncher = {
  launch(name: string): HostChannel {
    const child = fork(runtimeHostEntry, [name], {
      execArgv: sourceExecArgv,
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: runtimeHostEnv(name),
    });
    return {
      get pid() {
        return child.pid;
      },
      send(message) {
        // A host that just died fails the write (EPIPE) before its exit is seen: the exit reports it.
        if (child.connected) child.send(message, () => undefined);
      },
      onMessage(listener) {
        child.on('message', (message) => listener(message));
      },
      onExit(listener) {
        let reported = false;
        const report = (description: string): void => {
          if (!reported) listener(description);
          reported = true;
        };
        child.once('exit', (code, signal) => report(signal ? `killed by ${signal}` : `exited with code ${code}`));
        child.once('error', (error) => report(`failed: ${error.message}`));
      },
      kill() {
        child.kill('SIGKILL');
      },
    };
  },
};
