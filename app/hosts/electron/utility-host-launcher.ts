import { utilityProcess } from 'electron';
import { runtimeHostEntry, runtimeHostEnv, type HostChannel, type HostLauncher } from '../../engine/pool/host-launcher';

/**
 * Runtime hosts as Electron utility processes: the same entry and messages as the fork launcher,
 * so a native crash in a model takes down only its host, never the app's main process.
 */
export const utilityHostLauncher: HostLauncher = {
  launch(name: string): HostChannel {
    const child = utilityProcess.fork(runtimeHostEntry, [name], { serviceName: `avatar-${name}`, stdio: 'inherit', env: runtimeHostEnv(name) });
    let alive = true;
    return {
      get pid() {
        return child.pid;
      },
      send(message) {
        if (alive) child.postMessage(message);
      },
      onMessage(listener) {
        child.on('message', (message: unknown) => listener(message));
      },
      onExit(listener) {
        child.once('exit', (code: number) => {
          alive = false;
          listener(`exited with code ${code}`);
        });
      },
      kill() {
        child.kill();
      },
    };
  },
};
