/** IPC channel names shared by the Electron shell and the preload. */
export const IPC_FROM_RENDERER = 'avatar:to-engine';
export const IPC_TO_RENDERER = 'avatar:from-engine';
