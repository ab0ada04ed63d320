import { z } from 'zod';

/** Stable error codes shared by engine, workers and renderer. */
export const ErrorCode = {
  InvalidMessage: 'invalid_message',
  Unauthorized: 'unauthorized',
  UnknownSession: 'unknown_session',
  /** A connection asked for more sessions at once than the engine allows one client. */
  SessionLimit: 'session_limit',
  PoolExhausted: 'pool_exhausted',
  WorkerCrashed: 'worker_crashed',
  WorkerHung: 'worker_hung',
  WorkerOutOfMemory: 'worker_out_of_memory',
  ModelMissing: 'model_missing',
  ModelInvalid: 'model_invalid',
  ModelTooLarge: 'model_too_large',
  Cancelled: 'cancelled',
  BadAudio: 'bad_audio',
  /** The engine could not start: it answers settings and models, but no turns, until it starts again. */
  EngineDegraded: 'engine_degraded',
  /** A saved conversation had lines that could not be read: they were skipped, the rest was kept. */
  JournalDamaged: 'journal_damaged',
  /** A conversation could not be written to disk (full, no permission): it goes on in memory. */
  JournalWriteFailed: 'journal_write_failed',
  Internal: 'internal',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export const ErrorCodeSchema = z.enum(Object.values(ErrorCode) as [ErrorCode, ...ErrorCode[]]);

/** An error as a plain value: what crosses every process boundary. */
export interface AppErrorShape {
  code: ErrorCode;
  message: string;
  recoverable: boolean;
}

/** A typed error with a stable code; `message` is written for the user. */
export class AppError extends Error implements AppErrorShape {
  readonly code: ErrorCode;
  readonly recoverable: boolean;

  constructor(code: ErrorCode, message: string, recoverable: boolean, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AppError';
    this.code = code;
    this.recoverable = recoverable;
  }

  toShape(): AppErrorShape {
    return { code: this.code, message: this.message, recoverable: this.recoverable };
  }

  static from(error: unknown): AppError {
    if (error instanceof AppError) return error;
    if (error instanceof Error && error.name === 'AbortError') {
      return new AppError(ErrorCode.Cancelled, 'The request was cancelled.', true, { cause: error });
    }
    const message = error instanceof Error ? error.message : String(error);
    return new AppError(ErrorCode.Internal, message, true, { cause: error });
  }

  static fromShape(shape: AppErrorShape): AppError {
    return new AppError(shape.code, shape.message, shape.recoverable);
  }
}
