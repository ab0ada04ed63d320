/** A pipeline stage: an async function from one stream to another, stopped by the turn's signal. */
export type Stage<In, Out> = (source: AsyncIterable<In>, signal: AbortSignal) => AsyncIterable<Out>;

/** The error a stage throws when its signal aborts. */
export function abortError(signal: AbortSignal): Error {
  if (signal.reason instanceof Error) return signal.reason;
  const error = new Error('The turn was aborted.');
  error.name = 'AbortError';
  return error;
}

/** A stream of one value: the input of a stage that runs once per turn. */
export async function* once<T>(value: T): AsyncIterable<T> {
  yield value;
}
