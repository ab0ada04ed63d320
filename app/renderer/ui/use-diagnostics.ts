import { useEffect, useState } from 'react';
import type { AvatarDiagnostics } from '../state/diagnostics';

/** The diagnostics snapshot, re-read a few times a second (not per frame). */
export function useDiagnostics(intervalMs = 250): Readonly<AvatarDiagnostics> | undefined {
  const [snapshot, setSnapshot] = useState(() => window.avatarDiagnostics);
  useEffect(() => {
    const timer = setInterval(() => setSnapshot(window.avatarDiagnostics), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs]);
  return snapshot;
}
