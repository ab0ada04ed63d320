import { useEffect, useRef, useSyncExternalStore } from 'react';
import { MicMode } from '../../shared/settings.contract';
import type { MicCapture } from '../audio/mic-capture';
import type { SettingsStore } from '../state/settings-store';

/** Level bar driven by requestAnimationFrame through a ref: no React render per frame. */
function MicLevelMeter({ mic, active }: { mic: MicCapture; active: boolean }) {
  const barRef = useRef<HTMLDivElement>(null);
  const meterRef = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const bar = barRef.current;
    const meter = meterRef.current;
    if (!active || !bar || !meter) return;
    let frame = 0;
    let announced = -1;
    const tick = (): void => {
      const level = mic.level;
      bar.style.transform = `scaleX(${level.toFixed(3)})`;
      // Screen readers get a coarse value, not sixty updates a second.
      const coarse = Math.round(level * 10) * 10;
      if (coarse !== announced) {
        announced = coarse;
        meter.setAttribute('aria-valuenow', String(coarse));
      }
      frame = requestAnimationFrame(tick);
    };
    frame = requestAnimationFrame(tick);
    return () => {
      cancelAnimationFrame(frame);
      bar.style.transform = 'scaleX(0)';
    };
  }, [mic, active]);
  return (
    <div ref={meterRef} className="mic-meter" role="meter" aria-label="Microphone level" aria-valuemin={0} aria-valuemax={100} aria-valuenow={0}>
      <div ref={barRef} className="mic-meter-bar" />
    </div>
  );
}

/** Mic on/off (M), mute, push-to-talk (hold Space), input device and level. Mode and device are settings (they persist). */
export function MicControls({ mic, settings }: { mic: MicCapture; settings: SettingsStore }) {
  const status = useSyncExternalStore(mic.subscribe, mic.getSnapshot);
  const on = status.active || status.starting;
  const pushToTalk = status.mode === MicMode.PushToTalk;
  const hint = !status.active
    ? ''
    : status.muted
      ? 'Muted'
      : pushToTalk
        ? status.talking
          ? 'Talking…'
          : 'Hold Space to talk'
        : 'Listening';

  return (
    <div className={`mic-controls${status.active ? ' mic-on' : ''}`} role="group" aria-label="Microphone">
      <button
        type="button"
        className="mic-toggle"
        aria-pressed={on}
        title="Microphone on/off (M)"
        onClick={() => mic.toggle()}
      >
        {status.starting ? 'Mic…' : on ? 'Mic on' : 'Mic off'}
      </button>
      <button type="button" className="secondary" aria-pressed={status.muted} disabled={!status.active} onClick={() => mic.setMuted(!status.muted)}>
        {status.muted ? 'Unmute' : 'Mute'}
      </button>
      <MicLevelMeter mic={mic} active={status.active} />
      <span className="mic-hint" aria-live="polite">
        {hint}
      </span>
      <label className="mic-option">
        <input type="checkbox" checked={pushToTalk} onChange={(event) => settings.updateRenderer({ micMode: event.target.checked ? MicMode.PushToTalk : MicMode.HandsFree })} />
        Push to talk (Space)
      </label>
      <label className="mic-option">
        <span className="visually-hidden">Microphone device</span>
        <select
          value={status.deviceId ?? ''}
          onFocus={() => void mic.refreshDevices()}
          onChange={(event) => settings.updateRenderer({ micDeviceId: event.target.value === '' ? null : event.target.value })}
        >
          <option value="">Default microphone</option>
          {status.devices.map((device) => (
            <option key={device.deviceId} value={device.deviceId}>
              {device.label}
            </option>
          ))}
        </select>
      </label>
    </div>
  );
}
