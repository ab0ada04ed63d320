/** Why the disk refused a write, in words the user can act on; undefined when the disk is not the reason. */
export function diskWriteProblem(error: unknown): string | undefined {
  switch ((error as NodeJS.ErrnoException | null)?.code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return 'the disk is full';
    case 'EACCES':
    case 'EPERM':
      return 'no permission to write there';
    case 'EROFS':
      return 'the disk is read-only';
    default:
      return undefined;
  }
}

/** A failed write in words: the disk's reason when it is one, else the error's own message. */
export function describeWriteError(error: unknown): string {
  return diskWriteProblem(error) ?? (error as Error).message;
}
