import { useEffect, useState, useSyncExternalStore } from 'react';
import type { SettingsStore } from '../state/settings-store';
import type { VisionLoop } from '../vision/vision-loop';

/** Turns the camera on or off with the device chosen in the settings. */
export function toggleCamera(vision: VisionLoop, settings: SettingsStore): void {
  if (vision.getSnapshot().active) vision.stop();
  else void vision.start(settings.getSnapshot().renderer.cameraDeviceId);
}

/** The cameras the page may use (names appear once the user has allowed one). */
export function useCameraDevices(): MediaDeviceInfo[] {
  const [devices, setDevices] = useState<MediaDeviceInfo[]>([]);
  useEffect(() => {
    const media = navigator.mediaDevices;
    if (!media?.enumerateDevices) return;
    const refresh = (): void => {
      void media.enumerateDevices().then((all) => setDevices(all.filter((device) => device.kind === 'videoinput' && device.deviceId !== '')));
    };
    refresh();
    media.addEventListener('devicechange', refresh);
    return () => media.removeEventListener('devicechange', refresh);
  }, []);
  return devices;
}

/**
 * Camera on/off (C), off at every start; while it is on a red indicator says so. Shows the vision
 * models' load progress and any camera error in words.
 */
export function CameraControls({ vision, settings }: { vision: VisionLoop; settings: SettingsStore }) {
  const status = useSyncExternalStore(vision.subscribe, vision.getSnapshot);
  const loading = status.active && status.status === 'loading';
  return (
    <div className={`camera-controls${status.active ? ' camera-on' : ''}`} role="group" aria-label="Camera">
      <button type="button" className="camera-toggle" aria-pressed={status.active} title="Camera on/off (C): frames stay on this device, nothing is stored" onClick={() => toggleCamera(vision, settings)}>
        {status.active ? 'Camera on' : 'Camera off'}
      </button>
      {status.active && (
        <span className="camera-indicator" role="status">
          <span className="camera-dot" aria-hidden="true" /> {loading ? `Loading vision models ${Math.round(status.loadProgress * 100)}%` : 'The avatar sees you'}
        </span>
      )}
      {status.error && (
        <span className="camera-error" role="alert">
          {status.error}
        </span>
      )}
    </div>
  );
}
