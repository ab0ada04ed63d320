/** A reply chunk as sent to the renderer. */
export interface SentChunk {
  seq: number;
  text: string;
  durationMs: number;
}

/** What the renderer last reported about one chunk's playback. */
export interface ChunkPlayback {
  playedMs: number;
  ended: boolean;
  /** Engine clock when the report arrived. */
  reportedAtMs: number;
}

/** The words of `text` whose end lies within the first `fraction` of it (never a partial word). */
export function heardPrefix(text: string, fraction: number): string {
  if (fraction >= 1) return text;
  const limit = fraction * text.length;
  let heard = '';
  for (const match of text.matchAll(/\S+/g)) {
    if (match.index + match[0].length > limit) break;
    heard = text.slice(0, match.index + match[0].length);
  }
  return heard;
}

/**
 * The part of a reply the user actually heard: chunks in seq order, the one playing at `nowMs` cut
 * proportionally to its played time (extrapolated from the last report, since audio keeps playing).
 */
export function heardText(chunks: readonly SentChunk[], playback: ReadonlyMap<number, ChunkPlayback>, nowMs: number): string {
  const parts: string[] = [];
  for (const chunk of [...chunks].sort((a, b) => a.seq - b.seq)) {
    const report = playback.get(chunk.seq);
    if (!report) break;
    const playedMs = report.ended ? chunk.durationMs : Math.min(chunk.durationMs, report.playedMs + Math.max(0, nowMs - report.reportedAtMs));
    if (playedMs >= chunk.durationMs) {
      parts.push(chunk.text);
      continue;
    }
    const prefix = heardPrefix(chunk.text, chunk.durationMs > 0 ? playedMs / chunk.durationMs : 1);
    if (prefix) parts.push(prefix);
    break;
  }
  return parts.join(' ');
}
