import { useEffect, useRef, useState, useSyncExternalStore } from 'react';
import { AppError } from '../../shared/errors.contract';
import { avatarStore } from '../avatar/avatar-store';
import type { Runtime } from '../state/runtime';

const ACCEPT = '.vrm,.glb,.gltf';

/**
 * Load your own avatar: a file picker button, and drag-and-drop of a .vrm/.glb/.gltf onto the
 * stage. A file that cannot be used shows an error in words and the current avatar stays.
 */
export function AvatarPicker({ runtime }: { runtime: Runtime }) {
  const { avatar, loading } = useSyncExternalStore(avatarStore.subscribe, avatarStore.getSnapshot);
  const input = useRef<HTMLInputElement>(null);
  const root = useRef<HTMLDivElement>(null);
  const [dragging, setDragging] = useState(false);

  const load = (file: File | undefined): void => {
    if (!file) return;
    avatarStore.loadFile(file).catch((error: unknown) => {
      const appError = AppError.from(error);
      runtime.store.addError(appError.code, appError.message, appError.recoverable);
    });
  };

  // Drops anywhere on the stage (the picker's parent) load the dropped file.
  useEffect(() => {
    const stage = root.current?.parentElement;
    if (!stage) return;
    const hasFiles = (event: DragEvent): boolean => event.dataTransfer?.types.includes('Files') ?? false;
    const onDragOver = (event: DragEvent): void => {
      if (!hasFiles(event)) return;
      event.preventDefault();
      if (event.dataTransfer) event.dataTransfer.dropEffect = 'copy';
      setDragging(true);
    };
    const onDragLeave = (event: DragEvent): void => {
      if (event.relatedTarget === null || !stage.contains(event.relatedTarget as Node)) setDragging(false);
    };
    const onDrop = (event: DragEvent): void => {
      if (!hasFiles(event)) return;
      event.preventDefault();
      setDragging(false);
      load(event.dataTransfer?.files[0]);
    };
    stage.addEventListener('dragover', onDragOver);
    stage.addEventListener('dragleave', onDragLeave);
    stage.addEventListener('drop', onDrop);
    return () => {
      stage.removeEventListener('dragover', onDragOver);
      stage.removeEventListener('dragleave', onDragLeave);
      stage.removeEventListener('drop', onDrop);
    };
  });

  return (
    <div ref={root} className={dragging ? 'avatar-picker avatar-picker-dragging' : 'avatar-picker'} role="group" aria-label="Avatar">
      <button type="button" onClick={() => input.current?.click()} disabled={loading !== null}>
        {loading ? `Loading ${loading}…` : 'Load avatar…'}
      </button>
      {avatar && (
        <button type="button" onClick={() => avatarStore.useDefault()} disabled={loading !== null}>
          Default avatar
        </button>
      )}
      <span className="avatar-picker-name">{avatar ? avatar.rig.info.name : 'Default avatar'}</span>
      <input
        ref={input}
        type="file"
        accept={ACCEPT}
        aria-label="Avatar file"
        hidden
        onChange={(event) => {
          load(event.target.files?.[0]);
          // The same file again is a new choice.
          event.target.value = '';
        }}
      />
      {dragging && <p className="avatar-drop-hint">Drop a .vrm, .glb or .gltf avatar</p>}
    </div>
  );
}
