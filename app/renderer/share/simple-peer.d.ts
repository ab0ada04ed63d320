/**
 * Types of the browser build of simple-peer 9 (`simplepeer.min.js`: the package's default entry
 * needs Node globals that Vite does not provide). Only what the share uses.
 */
declare module 'simple-peer/simplepeer.min.js' {
  export interface SimplePeerOptions {
    initiator?: boolean;
    trickle?: boolean;
    stream?: MediaStream;
    config?: RTCConfiguration;
    /** Do not open simple-peer's data channel-less negotiation for a receive-only side. */
    offerOptions?: RTCOfferOptions;
    answerOptions?: RTCAnswerOptions;
  }

  export interface SimplePeerInstance {
    /** The underlying connection (simple-peer's private field; used to tune the senders). */
    readonly _pc: RTCPeerConnection;
    readonly destroyed: boolean;
    signal(data: unknown): void;
    destroy(error?: Error): void;
    on(event: 'signal', listener: (data: unknown) => void): this;
    on(event: 'stream', listener: (stream: MediaStream) => void): this;
    on(event: 'connect' | 'close', listener: () => void): this;
    on(event: 'error', listener: (error: Error & { code?: string }) => void): this;
    on(event: 'iceStateChange', listener: (iceConnectionState: string, iceGatheringState: string) => void): this;
  }

  const SimplePeer: new (options?: SimplePeerOptions) => SimplePeerInstance;
  export default SimplePeer;
}
