/**
 * What the preload exposes to the page as `window.avatarBridge`: the renderer's only door to the
 * engine. The preload implements this type and the renderer's Electron client consumes it, so the
 * two cannot drift. Messages are validated on the other side of each hop.
 */
export interface AvatarBridge {
  send(message: unknown): void;
  onMessage(callback: (message: unknown) => void): () => void;
  /**
   * The desktop share server's endpoint (validated by the renderer), or null; the first call starts
   * the server, so the page calls it only when the user shares. Older preloads lack it.
   */
  shareEndpoint?(): Promise<unknown>;
}
