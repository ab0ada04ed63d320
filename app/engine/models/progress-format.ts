import type { PullProgress } from '../../shared/catalog.contract';
import { formatMegabytes, formatMegabytesPerSec } from '../../shared/format/bytes';

function formatDuration(totalSec: number): string {
  if (!Number.isFinite(totalSec)) return '--:--';
  const sec = Math.round(totalSec);
  const hours = Math.floor(sec / 3600);
  const minutes = Math.floor((sec % 3600) / 60);
  const seconds = String(sec % 60).padStart(2, '0');
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${seconds}` : `${minutes}:${seconds}`;
}

/** One progress line: percent, MB done, MB/s and ETA. */
export function formatProgress(progress: PullProgress): string {
  const speed = formatMegabytesPerSec(progress.bytesPerSec);
  if (progress.totalBytes === null || progress.totalBytes === 0) {
    return `${progress.id}  ${formatMegabytes(progress.receivedBytes)}  ${speed}`;
  }
  const percent = ((100 * progress.receivedBytes) / progress.totalBytes).toFixed(1).padStart(5);
  const remainingSec =
    progress.bytesPerSec > 0 ? (progress.totalBytes - progress.receivedBytes) / progress.bytesPerSec : Infinity;
  return `${progress.id}  ${percent}%  ${formatMegabytes(progress.receivedBytes)} / ${formatMegabytes(progress.totalBytes)}  ${speed}  ETA ${formatDuration(remainingSec)}`;
}

