/** IPC channel names shared by the Electron shell and the preload. */
export const IPC_FROM_RENDERER = 'avatar:to-engine';
export const IPC_TO_RENDERER = 'avatar:from-engine';
/** invoke → the desktop share server's endpoint (ShareEndpoint) or null; the first call starts the server. */
export const IPC_SHARE_ENDPOINT = 'avatar:share-endpoint';
