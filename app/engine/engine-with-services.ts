import type { ServerMessage } from '../shared/messages.contract';
import type { EngineInstance } from './create-engine';
import { MODEL_MESSAGE_TYPES, notServed, SETTINGS_MESSAGE_TYPES, VMC_MESSAGE_TYPES, type HandlerTable } from './dispatch';
import type { Engine, EngineConnection } from './engine-api';
import type { ModelService } from './models/model-service';
import type { SettingsService } from './settings/settings-service';
import type { VmcService } from './vmc/vmc-service';

/**
 * The engine that hosts serve: one dispatch table per client joining the session handlers with the
 * model manager's, the settings' and the VMC output's (a service left out answers its messages as not served).
 */
export function engineWithServices(instance: EngineInstance, services: { settings?: SettingsService; models?: ModelService; vmc?: VmcService }): Engine {
  return {
    start: () => instance.start(),
    health: () => instance.health(),
    connect(send: (message: ServerMessage) => void): EngineConnection {
      const sessions = instance.connectSessions(send);
      const models = services.models?.connect(send);
      const settings = services.settings?.connect(send);
      const vmc = services.vmc?.connect(send);
      const handlers: HandlerTable = {
        ...sessions.handlers,
        ...(models ? models.handlers : notServed(MODEL_MESSAGE_TYPES, send, 'model manager')),
        ...(settings ? settings.handlers : notServed(SETTINGS_MESSAGE_TYPES, send, 'settings service')),
        ...(vmc ? vmc.handlers : notServed(VMC_MESSAGE_TYPES, send, 'VMC output')),
      };
      return instance.connectParts(send, handlers, [sessions, ...(models ? [models] : []), ...(settings ? [settings] : []), ...(vmc ? [vmc] : [])]);
    },
    async shutdown() {
      services.models?.shutdown();
      await instance.shutdown();
    },
  };
}
