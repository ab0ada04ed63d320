import type { z } from 'zod';
import { AppError, ErrorCode } from './errors.contract';
import { ClientMessageSchema, ServerMessageSchema, type ClientMessage, type ServerMessage } from './messages.contract';

function describe(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.join('.') || '(message)'}: ${issue.message}`)
    .join('; ');
}

function parseWith<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (!result.success) {
    const type = typeof value === 'object' && value !== null ? (value as { type?: unknown }).type : undefined;
    const name = typeof type === 'string' ? `"${type.slice(0, 40)}"` : 'without a known type';
    throw new AppError(ErrorCode.InvalidMessage, `Rejected ${what} ${name}: ${describe(result.error)}`, true);
  }
  return result.data;
}

/** Validates a message from the renderer; throws AppError(invalid_message) with the reason. */
export function parseClientMessage(value: unknown): ClientMessage {
  return parseWith(ClientMessageSchema, value, 'client message');
}

/** Validates a message from the engine; throws AppError(invalid_message) with the reason. */
export function parseServerMessage(value: unknown): ServerMessage {
  return parseWith(ServerMessageSchema, value, 'server message');
}
