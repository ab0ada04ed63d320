import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { AvatarBridge } from '../shared/bridge.contract';
import { IPC_FROM_RENDERER, IPC_SHARE_ENDPOINT, IPC_TO_RENDERER } from '../shared/ipc-channels';

/**
 * The renderer's only door to the engine: send a message, listen for messages, and ask where the
 * desktop share server listens (which starts it: the page asks when the user shares). Nothing else
 * of Electron or Node reaches the page. Messages are validated in the main process (the share
 * endpoint in the renderer); Float32Array fields pass by structured clone.
 */
const bridge: AvatarBridge = {
  send(message: unknown): void {
    ipcRenderer.send(IPC_FROM_RENDERER, message);
  },
  onMessage(callback: (message: unknown) => void): () => void {
    const listener = (_event: IpcRendererEvent, message: unknown): void => callback(message);
    ipcRenderer.on(IPC_TO_RENDERER, listener);
    return () => ipcRenderer.off(IPC_TO_RENDERER, listener);
  },
  shareEndpoint(): Promise<unknown> {
    return ipcRenderer.invoke(IPC_SHARE_ENDPOINT);
  },
};
contextBridge.exposeInMainWorld('avatarBridge', bridge);
