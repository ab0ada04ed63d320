import { AppError, ErrorCode } from '../../shared/errors.contract';

/** A file that cannot be an avatar, with the reason in words. */
export function invalidAvatar(fileName: string, why: string): AppError {
  return new AppError(ErrorCode.ModelInvalid, `"${fileName}" cannot be used as an avatar: ${why}`, true);
}

/** A file that would take more memory or work than the page can give an avatar. */
export function avatarTooLarge(fileName: string, what: string): AppError {
  return new AppError(ErrorCode.ModelTooLarge, `"${fileName}" is too heavy to use as an avatar: ${what}. Use a lighter avatar (fewer vertices or blend shapes, smaller textures).`, true);
}
