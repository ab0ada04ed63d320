import { decodeBinaryFrame, encodeBinaryFrame, hasPcm } from './binary-frame';
import { AppError, ErrorCode } from './errors.contract';
import type { ClientMessage, ServerMessage } from './messages.contract';
import { parseClientMessage } from './validate';

/** One WebSocket frame as received: text (JSON) or binary (binary-frame.ts). */
export type WireFrame = { kind: 'text'; text: string } | { kind: 'binary'; bytes: Uint8Array };

/** Decodes and validates a frame from a client; throws AppError(invalid_message) with the reason. */
export function decodeClientFrame(frame: WireFrame): ClientMessage {
  let value: unknown;
  if (frame.kind === 'text') {
    try {
      value = JSON.parse(frame.text);
    } catch {
      throw new AppError(ErrorCode.InvalidMessage, 'Rejected a message that is not valid JSON.', true);
    }
    if (typeof value === 'object' && value !== null && 'pcm' in value) {
      throw new AppError(ErrorCode.InvalidMessage, 'Rejected a JSON message with a pcm field: audio must be sent as a binary frame.', true);
    }
  } else {
    try {
      value = decodeBinaryFrame(frame.bytes);
    } catch (error) {
      throw new AppError(ErrorCode.InvalidMessage, `Rejected a binary frame: ${(error as Error).message}.`, true);
    }
  }
  return parseClientMessage(value);
}

/** Encodes an engine message for the wire: binary when it carries PCM, JSON text otherwise. */
export function encodeServerMessage(message: ServerMessage): string | Uint8Array {
  return hasPcm(message) ? encodeBinaryFrame(message) : JSON.stringify(message);
}
