import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { IPC_FROM_RENDERER, IPC_TO_RENDERER } from '../main/electron/ipc-channels';

/**
 * The renderer's only door to the engine: send a message, listen for messages. Messages are
 * validated in the main process; Float32Array fields pass by structured clone.
 */
contextBridge.exposeInMainWorld('avatarBridge', {
  send(message: unknown): void {
    ipcRenderer.send(IPC_FROM_RENDERER, message);
  },
  onMessage(callback: (message: unknown) => void): () => void {
    const listener = (_event: IpcRendererEvent, message: unknown): void => callback(message);
    ipcRenderer.on(IPC_TO_RENDERER, listener);
    return () => ipcRenderer.off(IPC_TO_RENDERER, listener);
  },
});
