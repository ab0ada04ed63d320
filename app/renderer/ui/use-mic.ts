import { useEffect, useState } from 'react';
import { MicMode } from '../../shared/settings.contract';
import { MicCapture } from '../audio/mic-capture';
import { setMicDiagnosticsSource } from '../state/diagnostics';
import type { Runtime } from '../state/runtime';

/** Keys typed into a field are text, not shortcuts. */
export function isTextTarget(target: EventTarget | null): boolean {
  return target instanceof HTMLElement && (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName));
}

function createMic(runtime: Runtime): MicCapture {
  return new MicCapture({
    sessionId: () => runtime.store.getSnapshot().sessionId,
    send: (message) => runtime.client.send(message),
    error: (code, message) => runtime.store.addError(code, message),
  });
}

/** Microphone wiring: diagnostics, `?mic=1` autostart, M toggles, Space is push-to-talk. */
export function useMic(runtime: Runtime): MicCapture {
  const [mic] = useState(() => createMic(runtime));
  // Mode and device are settings: applied at start and whenever they change (before ?mic=1 starts it).
  useEffect(() => {
    let appliedDeviceId: string | null | undefined;
    const apply = (): void => {
      const { micMode, micDeviceId } = runtime.settings.getSnapshot().renderer;
      if (mic.getSnapshot().mode !== micMode) mic.setMode(micMode);
      if (micDeviceId !== appliedDeviceId) {
        appliedDeviceId = micDeviceId;
        mic.selectDevice(micDeviceId);
      }
    };
    apply();
    return runtime.settings.subscribe(apply);
  }, [mic, runtime]);
  useEffect(() => {
    setMicDiagnosticsSource(() => mic.diagnostics());
    if (new URLSearchParams(window.location.search).get('mic') === '1') void mic.start();
  }, [mic]);
  useEffect(() => {
    const onKeyDown = (event: KeyboardEvent): void => {
      if (isTextTarget(event.target) || event.ctrlKey || event.metaKey || event.altKey) return;
      if ((event.key === 'm' || event.key === 'M') && !event.repeat) mic.toggle();
      else if (event.code === 'Space' && mic.getSnapshot().mode === MicMode.PushToTalk) {
        event.preventDefault();
        runtime.player.resume();
        mic.setTalking(true);
      }
    };
    const onKeyUp = (event: KeyboardEvent): void => {
      if (event.code === 'Space') mic.setTalking(false);
    };
    const onBlur = (): void => mic.setTalking(false);
    window.addEventListener('keydown', onKeyDown);
    window.addEventListener('keyup', onKeyUp);
    window.addEventListener('blur', onBlur);
    return () => {
      window.removeEventListener('keydown', onKeyDown);
      window.removeEventListener('keyup', onKeyUp);
      window.removeEventListener('blur', onBlur);
    };
  }, [mic, runtime]);
  return mic;
}
