import { AppError } from '../../shared/errors.contract';
import { checkAvatarFileSize } from './gltf-budget';
import { loadAvatar, type LoadedAvatar } from './load-avatar';

/** Which avatar the scene shows: `null` is the built-in default avatar. */
export interface AvatarSelection {
  avatar: LoadedAvatar | null;
  /** A file is being read or parsed. */
  loading: string | null;
}

/**
 * The current avatar, shared by the picker (which loads files) and the scene (which shows them).
 * A new avatar replaces the old one only once it has loaded; a failed load leaves it in place.
 */
class AvatarStore {
  private state: AvatarSelection = { avatar: null, loading: null };
  private readonly listeners = new Set<() => void>();

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  readonly getSnapshot = (): AvatarSelection => this.state;

  /** Loads a user file; rejects with an AppError (in words) and keeps the current avatar on failure. */
  async loadFile(file: Blob & { name: string }): Promise<LoadedAvatar> {
    this.update({ loading: file.name });
    try {
      // File.size is known without reading: a huge file is refused before it is loaded into memory.
      checkAvatarFileSize(file.size, file.name);
      const avatar = await loadAvatar(await file.arrayBuffer(), file.name);
      this.replace(avatar);
      return avatar;
    } catch (error) {
      throw AppError.from(error);
    } finally {
      this.update({ loading: null });
    }
  }

  /** Back to the built-in avatar. */
  useDefault(): void {
    this.replace(null);
  }

  private replace(avatar: LoadedAvatar | null): void {
    const previous = this.state.avatar;
    this.update({ avatar });
    // The scene has swapped meshes by the next frame; free the old GPU buffers after that.
    if (previous) requestAnimationFrame(() => requestAnimationFrame(() => previous.dispose()));
  }

  private update(patch: Partial<AvatarSelection>): void {
    this.state = { ...this.state, ...patch };
    for (const listener of this.listeners) listener();
  }
}

export const avatarStore = new AvatarStore();
