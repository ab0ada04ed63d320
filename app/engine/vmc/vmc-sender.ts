import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { encode, type Bundle } from 'node-osc';

/**
 * One UDP socket that sends OSC bundles to a VMC receiver. Sending is fire-and-forget, like every
 * VMC sender: a receiver that is not running loses frames and the next frame is sent regardless.
 * `onProblem` hears a send failure in words (once until a send succeeds again).
 */
export class VmcSender {
  private readonly socket: Socket;
  private closed = false;
  private failing = false;

  constructor(
    readonly host: string,
    readonly port: number,
    private readonly onProblem: (problem: string | null) => void,
  ) {
    this.socket = createSocket(isIPv6(host) ? 'udp6' : 'udp4');
    this.socket.on('error', (error) => this.fail(error));
    this.socket.unref();
  }

  send(bundle: Bundle): void {
    if (this.closed) return;
    this.socket.send(encode(bundle), this.port, this.host, (error) => {
      if (error) this.fail(error);
      else if (this.failing) {
        this.failing = false;
        this.onProblem(null);
      }
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.close();
  }

  private fail(error: Error): void {
    if (this.closed || this.failing) return;
    this.failing = true;
    this.onProblem(`VMC output to ${this.host}:${this.port} failed: ${error.message}`);
  }
}
