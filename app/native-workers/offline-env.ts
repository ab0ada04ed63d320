/**
 * Environment that keeps the native runtimes from reaching the network on their own. onnxruntime
 * (onnxruntime-node 1.30 on Linux) starts a telemetry uploader to mobile.events.data.microsoft.com
 * in a thread of its own — found by the offline test, whose strace showed its DNS lookups from inside
 * libonnxruntime; `ORT_DISABLE_TELEMETRY` turns it off. Set in every process that may load a runtime,
 * before the first runtime loads, and passed to the runtime hosts' environments.
 */
export const OFFLINE_NATIVE_ENV: Readonly<Record<string, string>> = { ORT_DISABLE_TELEMETRY: '1' };

/** Puts OFFLINE_NATIVE_ENV into this process's environment (native getenv reads it; worker threads share it). */
export function keepNativeRuntimesOffline(env: NodeJS.ProcessEnv = process.env): void {
  Object.assign(env, OFFLINE_NATIVE_ENV);
}
