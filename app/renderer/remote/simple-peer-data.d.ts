/** simple-peer's data channel (captions of a remote conversation), merged into share/simple-peer.d.ts. */
declare module 'simple-peer/simplepeer.min.js' {
  export interface SimplePeerInstance {
    readonly connected: boolean;
    send(data: string): void;
    on(event: 'data', listener: (data: Uint8Array | string) => void): this;
  }
}
