import type { ServerMessage } from '../../shared/messages.contract';
import { defaultVmcSettings, type VmcSettings, type VmcStatus } from '../../shared/vmc.contract';
import type { ConnectionPart, VmcMessageType } from '../dispatch';
import { vmcBundle } from './vmc-bundle';
import { VmcSender } from './vmc-sender';

/** The VMC group of the dispatch table and the output it drives. */
export interface VmcService {
  connect(send: (message: ServerMessage) => void): ConnectionPart<VmcMessageType>;
  /** The saved settings changed (or a new engine started on them); a changed VMC setting replaces `--vmc-out`. */
  settingsChanged(settings: VmcSettings | undefined): void;
  readonly status: VmcStatus;
  /** Bundles sent so far. */
  readonly bundlesSent: number;
  close(): void;
}

function sameSettings(a: VmcSettings, b: VmcSettings): boolean {
  return a.enabled === b.enabled && a.host === b.host && a.port === b.port && a.naming === b.naming;
}

/**
 * VMC protocol output: while it is on, every `vmc.pose` a page sends becomes one OSC bundle to the
 * target; while it is off no socket exists and poses are dropped. Every page hears `vmc.status`
 * on connecting and on every change, so pages send poses only while it is on. `--vmc-out`
 * (`flagTarget`) turns it on for the run until the user changes the VMC setting.
 */
export function createVmcService(options: { settings: VmcSettings | undefined; flagTarget?: { host: string; port: number } | undefined }): VmcService {
  let settings = options.settings ?? defaultVmcSettings;
  let flagTarget = options.flagTarget;
  let sender: VmcSender | null = null;
  let problem: string | null = null;
  let bundlesSent = 0;
  const clients = new Set<(message: ServerMessage) => void>();

  const effective = (): VmcSettings => (flagTarget ? { ...settings, enabled: true, ...flagTarget } : settings);
  const status = (): VmcStatus => {
    const { enabled, host, port, naming } = effective();
    return {
      type: 'vmc.status',
      enabled,
      naming,
      target: `${host.includes(':') ? `[${host}]` : host}:${port}`,
      source: flagTarget ? 'flag' : 'settings',
      ...(problem !== null ? { problem } : {}),
    };
  };
  const broadcast = (): void => {
    const message = status();
    for (const client of clients) client(message);
  };

  /** Opens, moves or closes the socket to match the effective setting. */
  function follow(): void {
    const { enabled, host, port } = effective();
    if (sender && (!enabled || sender.host !== host || sender.port !== port)) {
      sender.close();
      sender = null;
    }
    problem = null;
    if (enabled && !sender) {
      sender = new VmcSender(host, port, (next) => {
        problem = next;
        broadcast();
      });
    }
  }
  follow();

  return {
    connect(send) {
      clients.add(send);
      send(status());
      return {
        handlers: {
          'vmc.pose': (pose) => {
            if (!sender) return;
            sender.send(vmcBundle(pose, effective().naming));
            bundlesSent += 1;
          },
        },
        close() {
          clients.delete(send);
        },
      };
    },
    settingsChanged(next) {
      const nextSettings = next ?? defaultVmcSettings;
      if (sameSettings(nextSettings, settings)) return;
      settings = nextSettings;
      flagTarget = undefined;
      follow();
      broadcast();
    },
    get status() {
      return status();
    },
    get bundlesSent() {
      return bundlesSent;
    },
    close() {
      sender?.close();
      sender = null;
      clients.clear();
    },
  };
}
