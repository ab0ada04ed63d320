import { useEffect, useRef } from 'react';
import type { TranscriptEntry } from '../state/conversation-store';

/** The conversation so far; the reply streams in as the engine writes it. */
export function Transcript({ entries }: { entries: readonly TranscriptEntry[] }) {
  const end = useRef<HTMLLIElement>(null);
  const last = entries[entries.length - 1];
  useEffect(() => {
    // Newer Chromium returns a promise from scrollIntoView: never hand it back to React as a cleanup.
    void end.current?.scrollIntoView({ block: 'end' });
  }, [entries.length, last?.text]);
  return (
    <ol className="transcript" role="log" aria-label="Conversation" aria-live="polite">
      {entries.length === 0 && <li className="transcript-empty">Say hello — type a message below.</li>}
      {entries.map((entry) => (
        <li key={entry.id} className={`bubble bubble-${entry.role}${entry.pending ? ' bubble-pending' : ''}`} data-provisional={entry.role === 'user' && entry.pending ? 'true' : undefined}>
          {/* A pending user line is a partial transcript: provisional until the final one replaces it. */}
          <span className="bubble-who">{entry.role === 'user' ? (entry.pending ? 'You (still listening…)' : 'You') : 'Avatar'}</span>
          <span className="bubble-text">{entry.text}</span>
          {entry.interrupted && <span className="bubble-note"> (interrupted)</span>}
        </li>
      ))}
      <li ref={end} aria-hidden="true" className="transcript-end" />
    </ol>
  );
}
