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

const TURNS_SHOWN = 3;

/** Small overlay: fps, lip-sync offset, and the stage breakdown of the last few turns (newest first). */
export function LatencyOverlay({ diagnostics, traces }: { diagnostics: Readonly<AvatarDiagnostics> | undefined; traces: readonly TurnTrace[] }) {
  const shown = traces.slice(-TURNS_SHOWN).reverse();
  const rows = STAGES.map((stage) => ({ label: stage.label, ms: shown.map((trace) => stageMs(trace, stage.from, stage.to)) })).filter((row) =>
    row.ms.some((ms) => ms !== undefined),
  );
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
      </dl>
      {shown.length > 0 ? (
        <table className="latency-turns">
          <caption className="visually-hidden">Stage times of the last turns, newest first (ms)</caption>
          <thead>
            <tr>
              <th scope="col">ms</th>
              {shown.map((trace, index) => (
                <th key={trace.turnId} scope="col" title={trace.turnId}>
                  {index === 0 ? 'last' : `−${index}`}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={row.label}>
                <th scope="row">{row.label}</th>
                {row.ms.map((ms, index) => (
                  <td key={shown[index]!.turnId}>{ms === undefined ? '–' : Math.round(ms)}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p className="latency-empty">No turn yet</p>
      )}
    </aside>
  );
}
