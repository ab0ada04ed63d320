import { type FormEvent, type KeyboardEvent, type ReactNode, useEffect, useRef, useState, useSyncExternalStore } from 'react';
import { EngineSettingsSchema, MicMode, PERSONA_MAX_CHARS, type BackgroundMode, type EngineSettings, type RestartSetting } from '../../shared/settings.contract';
import { defaultVmcSettings, VMC_DEFAULT_PORT } from '../../shared/vmc.contract';
import { vmcStatusText, type VmcOutput } from '../vmc/vmc-output';
import type { MicStatus } from '../audio/mic-capture';
import type { SettingsStore } from '../state/settings-store';
import { useCameraDevices } from './camera-controls';

const RESTART_WORDS: Record<RestartSetting, string> = {
  vad: 'voice detection',
  poolSizes: 'worker counts',
  models: 'models',
};

const BACKGROUND_LABELS: Record<BackgroundMode, string> = {
  normal: 'Normal',
  transparent: 'Transparent (for capture)',
  chroma: 'Chroma green (for capture)',
};

/** The engine form as text fields: empty means "the default". */
interface EngineDraft {
  persona: string;
  voice: string;
  vadThreshold: string;
  vadMinSilenceMs: string;
  endOfTurn: string;
  interruptions: string;
  poolLlm: string;
  poolStt: string;
  poolTts: string;
  modelLlm: string;
  modelStt: string;
  modelVoice: string;
  vmcEnabled: string;
  vmcHost: string;
  vmcPort: string;
  vmcNaming: string;
  /** `forever`, `days` or `none`. */
  keepConversations: string;
  keepDays: string;
}

/** Days a conversation is kept when the user picks "for a number of days" without a number yet. */
const DEFAULT_KEEP_DAYS = 30;

function toDraft(settings: EngineSettings): EngineDraft {
  const text = (value: string | number | undefined): string => (value === undefined ? '' : String(value));
  return {
    persona: text(settings.persona),
    voice: text(settings.voice),
    vadThreshold: text(settings.vad.threshold),
    vadMinSilenceMs: text(settings.vad.minSilenceMs),
    endOfTurn: text(settings.vad.endOfTurn),
    interruptions: text(settings.vad.interruptions),
    poolLlm: text(settings.poolSizes.llm),
    poolStt: text(settings.poolSizes.stt),
    poolTts: text(settings.poolSizes.tts),
    modelLlm: text(settings.models.llm),
    modelStt: text(settings.models.stt),
    modelVoice: text(settings.models.voice),
    vmcEnabled: (settings.vmc ?? defaultVmcSettings).enabled ? 'on' : 'off',
    vmcHost: (settings.vmc ?? defaultVmcSettings).host,
    vmcPort: text((settings.vmc ?? defaultVmcSettings).port),
    vmcNaming: (settings.vmc ?? defaultVmcSettings).naming,
    keepConversations: settings.conversations?.keep ?? 'forever',
    keepDays: settings.conversations?.keep === 'days' ? String(settings.conversations.days) : String(DEFAULT_KEEP_DAYS),
  };
}

/** The draft as settings, or the first problem in words. */
function fromDraft(draft: EngineDraft): { settings: EngineSettings } | { problem: string } {
  const text = (value: string): string | undefined => (value.trim() === '' ? undefined : value.trim());
  const number = (value: string): number | undefined => (value.trim() === '' ? undefined : Number(value));
  const vmc = {
    enabled: draft.vmcEnabled === 'on',
    host: text(draft.vmcHost) ?? defaultVmcSettings.host,
    port: number(draft.vmcPort) ?? defaultVmcSettings.port,
    naming: draft.vmcNaming,
  };
  const vmcIsDefault = (Object.keys(defaultVmcSettings) as Array<keyof typeof vmc>).every((key) => vmc[key] === defaultVmcSettings[key]);
  const parsed = EngineSettingsSchema.safeParse({
    persona: text(draft.persona),
    voice: text(draft.voice),
    vad: {
      threshold: number(draft.vadThreshold),
      minSilenceMs: number(draft.vadMinSilenceMs),
      endOfTurn: text(draft.endOfTurn),
      interruptions: text(draft.interruptions),
    },
    poolSizes: { llm: number(draft.poolLlm), stt: number(draft.poolStt), tts: number(draft.poolTts) },
    models: { llm: text(draft.modelLlm), stt: text(draft.modelStt), voice: text(draft.modelVoice) },
    // Off with the default target stays absent from the file, like every other default.
    vmc: vmcIsDefault ? undefined : vmc,
    // Absent means forever: a file saved before this setting existed stays the same.
    conversations: draft.keepConversations === 'forever' ? undefined : draft.keepConversations === 'days' ? { keep: 'days', days: number(draft.keepDays) } : { keep: draft.keepConversations },
  });
  if (parsed.success) return { settings: parsed.data };
  const issue = parsed.error.issues[0]!;
  return { problem: `${issue.path.join(' ')}: ${issue.message}` };
}

function Field({ label, hint, children }: { label: string; hint?: string; children: ReactNode }) {
  return (
    <label className="settings-field">
      <span className="settings-label">{label}</span>
      {children}
      {hint && <span className="settings-hint">{hint}</span>}
    </label>
  );
}

/**
 * Settings dialog. Display and microphone settings apply and persist (localStorage) at once; the
 * engine's (persona, voice, voice detection, workers, models, VMC output) are saved with "Save" to the engine's
 * settings file, which says what needs a restart. Escape closes; focus returns where it was.
 */
export function SettingsPanel(props: { settings: SettingsStore; mic: MicStatus; vmc: VmcOutput; onRefreshDevices: () => void; onClose: () => void }) {
  const { settings, mic, vmc, onRefreshDevices, onClose } = props;
  const snapshot = useSyncExternalStore(settings.subscribe, settings.getSnapshot);
  const vmcStatus = useSyncExternalStore(vmc.subscribe, vmc.getSnapshot);
  const cameras = useCameraDevices();
  const engine = snapshot.engine;
  const [draft, setDraft] = useState<EngineDraft | null>(engine ? toDraft(engine.settings) : null);
  const [status, setStatus] = useState('');
  /** The engine snapshot when Save was pressed: the next different one is the engine's answer. */
  const [savingFrom, setSavingFrom] = useState<typeof engine | undefined>(undefined);
  const dialogRef = useRef<HTMLDivElement>(null);
  const firstFieldRef = useRef<HTMLSelectElement>(null);

  useEffect(() => {
    const previous = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    firstFieldRef.current?.focus();
    return () => previous?.focus();
  }, []);

  // The engine's answer fills the form once, then confirms each save.
  useEffect(() => {
    if (!engine) return;
    setDraft((current) => current ?? toDraft(engine.settings));
    if (savingFrom !== undefined && engine !== savingFrom) {
      setSavingFrom(undefined);
      setStatus(
        engine.restartRequired.length > 0
          ? `Saved. Restart the app for: ${engine.restartRequired.map((group) => RESTART_WORDS[group]).join(', ')}.`
          : 'Saved.',
      );
    }
  }, [engine, savingFrom]);

  const edit = (field: keyof EngineDraft) => (event: { target: { value: string } }) => {
    const value = event.target.value;
    setDraft((current) => (current ? { ...current, [field]: value } : current));
  };

  const onSubmit = (event: FormEvent): void => {
    event.preventDefault();
    if (!draft) return;
    const result = fromDraft(draft);
    if ('problem' in result) {
      setStatus(`Not saved — ${result.problem}`);
      return;
    }
    if (!settings.saveEngine(result.settings)) {
      setStatus('Not saved — not connected to the engine.');
      return;
    }
    setSavingFrom(engine);
    setStatus('Saving…');
  };

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>): void => {
    if (event.key === 'Escape') {
      // The app's own Escape (stop the avatar) must not fire when closing the dialog.
      event.stopPropagation();
      onClose();
    }
  };

  const renderer = snapshot.renderer;
  return (
    <div className="dialog-backdrop" onMouseDown={(event) => event.target === event.currentTarget && onClose()}>
      <div ref={dialogRef} className="dialog settings-panel" role="dialog" aria-modal="true" aria-labelledby="settings-title" onKeyDown={onKeyDown}>
        <header className="dialog-header">
          <h2 id="settings-title">Settings</h2>
          <button type="button" className="dismiss" aria-label="Close settings" onClick={onClose}>
            ×
          </button>
        </header>
        {snapshot.warning && <p className="settings-warning" role="alert">{snapshot.warning}</p>}

        <fieldset>
          <legend>Display, microphone and camera (saved in this browser)</legend>
          <Field label="Background">
            <select ref={firstFieldRef} value={renderer.background} onChange={(event) => settings.updateRenderer({ background: event.target.value as BackgroundMode })}>
              {(Object.keys(BACKGROUND_LABELS) as BackgroundMode[]).map((mode) => (
                <option key={mode} value={mode}>
                  {BACKGROUND_LABELS[mode]}
                </option>
              ))}
            </select>
          </Field>
          <Field label="Microphone mode">
            <select value={renderer.micMode} onChange={(event) => settings.updateRenderer({ micMode: event.target.value as MicMode })}>
              <option value={MicMode.HandsFree}>Hands-free</option>
              <option value={MicMode.PushToTalk}>Push to talk (hold Space)</option>
            </select>
          </Field>
          <Field label="Microphone">
            <select value={renderer.micDeviceId ?? ''} onFocus={onRefreshDevices} onChange={(event) => settings.updateRenderer({ micDeviceId: event.target.value === '' ? null : event.target.value })}>
              <option value="">Default microphone</option>
              {mic.devices.map((device) => (
                <option key={device.deviceId} value={device.deviceId}>
                  {device.label}
                </option>
              ))}
            </select>
          </Field>
          <Field label="Camera">
            <select value={renderer.cameraDeviceId ?? ''} onChange={(event) => settings.updateRenderer({ cameraDeviceId: event.target.value === '' ? null : event.target.value })}>
              <option value="">Default camera</option>
              {cameras.map((device) => (
                <option key={device.deviceId} value={device.deviceId}>
                  {device.label || 'Camera'}
                </option>
              ))}
            </select>
          </Field>
          <label className="settings-field">
            <input type="checkbox" checked={renderer.greetOnArrival} onChange={(event) => settings.updateRenderer({ greetOnArrival: event.target.checked })} /> Greet someone the camera sees arrive
          </label>
          <p className="settings-hint">
            Avatar: {renderer.avatar ?? 'the built-in avatar'}
            {renderer.avatar !== null && ' (last loaded; open its file again with the avatar picker)'}
          </p>
        </fieldset>

        <form onSubmit={onSubmit} noValidate>
          <fieldset disabled={!draft}>
            <legend>Conversation (saved by the engine{engine ? ` in ${engine.file}` : ''})</legend>
            {engine?.warning && <p className="settings-warning" role="alert">{engine.warning}</p>}
            {!draft && <p className="settings-hint">Waiting for the engine…</p>}
            <Field label="Persona (system prompt)" hint="Used from the next reply. Empty: the default persona.">
              <textarea rows={4} maxLength={PERSONA_MAX_CHARS} value={draft?.persona ?? ''} onChange={edit('persona')} />
            </Field>
            <Field label="Voice" hint="Speaker name for the voice, e.g. en-gb. Empty: the voice's default. New conversations.">
              <input value={draft?.voice ?? ''} onChange={edit('voice')} />
            </Field>
            <Field label="Voice detection threshold" hint="0.05 … 0.95; lower hears quieter speech. Empty: default. Applies from the next utterance.">
              <input type="number" min={0.05} max={0.95} step={0.05} value={draft?.vadThreshold ?? ''} onChange={edit('vadThreshold')} />
            </Field>
            <Field label="Silence that ends a turn (ms)" hint="50 … 5000. Empty: default. Applies from the next utterance.">
              <input type="number" min={50} max={5000} step={50} value={draft?.vadMinSilenceMs ?? ''} onChange={edit('vadMinSilenceMs')} />
            </Field>
            <Field label="End of turn" hint="Smart: a model tells a thinking pause from the end of a question. Applies from the next pause.">
              <select value={draft?.endOfTurn ?? ''} onChange={edit('endOfTurn')}>
                <option value="">Default (smart when the model is installed)</option>
                <option value="smart">Smart (end-of-turn model)</option>
                <option value="silence">Silence only</option>
              </select>
            </Field>
            <Field label="Talking over the avatar" hint="Smart: its voice dips, and only a real interruption stops it (not “uh-huh”). Applies at once.">
              <select value={draft?.interruptions ?? ''} onChange={edit('interruptions')}>
                <option value="">Default (smart)</option>
                <option value="smart">Smart (backchannels don't interrupt)</option>
                <option value="always-stop">Always stop</option>
              </select>
            </Field>
            <Field
              label="Keep conversations"
              hint={`In the data folder, as text only (never audio). "Don't keep" deletes the saved ones and saves nothing. Applies at once.`}
            >
              <select value={draft?.keepConversations ?? 'forever'} onChange={edit('keepConversations')}>
                <option value="forever">Forever</option>
                <option value="days">For a number of days after the last message</option>
                <option value="none">Don't keep</option>
              </select>
            </Field>
            {draft?.keepConversations === 'days' && (
              <Field label="Days to keep" hint="1 … 3650.">
                <input type="number" min={1} max={3650} step={1} value={draft.keepDays} onChange={edit('keepDays')} />
              </Field>
            )}
            <div className="settings-row">
              <Field label="LLM workers">
                <input type="number" min={1} max={8} value={draft?.poolLlm ?? ''} onChange={edit('poolLlm')} placeholder="auto" />
              </Field>
              <Field label="STT workers">
                <input type="number" min={1} max={8} value={draft?.poolStt ?? ''} onChange={edit('poolStt')} placeholder="auto" />
              </Field>
              <Field label="TTS workers">
                <input type="number" min={1} max={8} value={draft?.poolTts ?? ''} onChange={edit('poolTts')} placeholder="auto" />
              </Field>
            </div>
            <Field label="Language model" hint="Catalog id or .gguf path. Empty: automatic. Needs a restart.">
              <input value={draft?.modelLlm ?? ''} onChange={edit('modelLlm')} placeholder="automatic" />
            </Field>
            <Field label="Speech recognition model" hint="Catalog id or whisper .bin path. Empty: automatic. Needs a restart.">
              <input value={draft?.modelStt ?? ''} onChange={edit('modelStt')} placeholder="automatic" />
            </Field>
            <Field label="Voice model" hint="Piper .onnx path. Empty: automatic. Needs a restart.">
              <input value={draft?.modelVoice ?? ''} onChange={edit('modelVoice')} placeholder="automatic" />
            </Field>
            <Field label="VMC output (VTuber tools)" hint={`Streams the avatar's face and head to VSeeFace, VNyan, Warudo… over OSC/UDP. Applies at once. ${vmcStatusText(vmcStatus)}`.trim()}>
              <select value={draft?.vmcEnabled ?? 'off'} onChange={edit('vmcEnabled')}>
                <option value="off">Off</option>
                <option value="on">On</option>
              </select>
            </Field>
            <div className="settings-row">
              <Field label="VMC host">
                <input value={draft?.vmcHost ?? ''} onChange={edit('vmcHost')} placeholder={defaultVmcSettings.host} />
              </Field>
              <Field label="VMC port">
                <input type="number" min={1} max={65535} value={draft?.vmcPort ?? ''} onChange={edit('vmcPort')} placeholder={String(VMC_DEFAULT_PORT)} />
              </Field>
              <Field label="Expression names">
                <select value={draft?.vmcNaming ?? 'vrm1'} onChange={edit('vmcNaming')}>
                  <option value="vrm1">VRM 1.0 (aa, blinkLeft, happy…)</option>
                  <option value="vrm0">VRM 0.x (A, Blink_L, Joy…)</option>
                </select>
              </Field>
            </div>
            <div className="settings-actions">
              <button type="submit">Save</button>
              <span className="settings-status" role="status">
                {status}
              </span>
            </div>
          </fieldset>
        </form>
      </div>
    </div>
  );
}
