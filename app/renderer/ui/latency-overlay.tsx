import type { TurnTrace } from '../../shared/trace.contract';
import type { AvatarDiagnostics } from '../state/diagnostics';

type TraceField = Exclude<keyof TurnTrace, 'sessionId' | 'turnId' | 'source'>;

/** Stages of the last turn as differences between trace timestamps. */
const STAGES: { label: string; from: TraceField[]; to: TraceField }[] = [
  { label: 'endpoint', from: ['speechEndMs'], to: 'endpointMs' },
  { label: 'stt', from: ['endpointMs'], to: 'sttFinalMs' },
  { label: 'llm 1st token', from: ['llmRequestMs'], to: 'llmFirstTokenMs' },
  { label: '1st clause', from: ['llmFirstTokenMs'], to: 'firstChunkTextMs' },
  { label: 'tts 1st audio', from: ['firstChunkTextMs'], to: 'ttsFirstAudioMs' },
  { label: 'to renderer', from: ['ttsFirstAudioMs'], to: 'playbackScheduledMs' },
  { label: 'to ears', from: ['playbackScheduledMs', 'ttsFirstAudioMs'], to: 'firstAudioAudibleMs' },
  { label: 'first audio', from: ['speechEndMs', 'llmRequestMs'], to: 'firstAudioAudibleMs' },
  { label: 'barge-in → silent', from: ['bargeInMs'], to: 'audioStoppedMs' },
];

function stageMs(trace: TurnTrace, from: TraceField[], to: TraceField): number | undefined {
  const end = trace[to];
  const start = from.map((field) => trace[field]).find((value) => value !== undefined);
  return end === undefined || start === undefined ? undefined : end - start;
}

/** Small overlay: last turn's stage breakdown, fps and lip-sync offset. */
export function LatencyOverlay({ diagnostics }: { diagnostics: Readonly<AvatarDiagnostics> | undefined }) {
  const trace = diagnostics?.lastTurn ?? null;
  const rows = trace
    ? STAGES.map((stage) => ({ label: stage.label, ms: stageMs(trace, stage.from, stage.to) })).filter((row) => row.ms !== undefined)
    : [];
  return (
    <aside className="latency-overlay" aria-label="Latency">
      <dl>
        <div className="latency-row">
          <dt>fps</dt>
          <dd>{diagnostics?.fps ?? '–'}</dd>
        </div>
        <div className="latency-row">
          <dt>a/v offset</dt>
          <dd>{diagnostics ? `${diagnostics.avOffsetMs.toFixed(1)} ms` : '–'}</dd>
        </div>
        <div className="latency-row">
          <dt>out latency</dt>
          <dd>{diagnostics ? `${(diagnostics.outputLatencySec * 1000).toFixed(0)} ms` : '–'}</dd>
        </div>
        {rows.map((row) => (
          <div key={row.label} className="latency-row">
            <dt>{row.label}</dt>
            <dd>{Math.round(row.ms!)} ms</dd>
          </div>
        ))}
      </dl>
      {!trace && <p className="latency-empty">No turn yet</p>}
    </aside>
  );
}
