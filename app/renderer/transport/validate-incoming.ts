import { AppError, ErrorCode } from '../../shared/errors.contract';
import type { ServerMessage } from '../../shared/messages.contract';
import { parseServerMessage } from '../../shared/validate';

/** Validates a message from the engine; an invalid one becomes an `error` message the UI shows. */
export function validateIncoming(value: unknown): ServerMessage {
  try {
    return parseServerMessage(value);
  } catch (error) {
    const appError = AppError.from(error);
    return {
      type: 'error',
      code: appError.code === ErrorCode.Internal ? ErrorCode.InvalidMessage : appError.code,
      message: appError.message,
      recoverable: true,
    };
  }
}
