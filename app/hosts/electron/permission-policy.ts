/**
 * Permissions, decided by the frame that asks (not by the window it sits in): only the microphone
 * and the camera (the camera is off until the user turns it on; its frames stay in the page), only
 * for frames on a trusted origin (the app's page, the pooled renderer page). Screen capture,
 * notifications, geolocation, MIDI, HID, clipboard and the rest are denied.
 */

/** What a permission request says about itself (Electron's request handler arguments). */
export interface PermissionRequestFacts {
  permission: string;
  /** The requesting frame's last URL (`details.requestingUrl`). */
  requestingUrl: string;
  /** For `media`: the origin of the capture request. */
  securityOrigin?: string;
  /** For `media`: what is asked for (`audio`, `video`). */
  mediaTypes?: readonly string[];
}

/** What a permission check says about itself (Electron's check handler arguments). */
export interface PermissionCheckFacts {
  permission: string;
  requestingOrigin: string;
  /** The requesting frame's last URL; missing for cross-origin subframes. */
  requestingUrl?: string;
  /** Set only for a cross-origin subframe: the origin of the page embedding it. */
  embeddingOrigin?: string;
  securityOrigin?: string;
  mediaType?: string;
}

/** A URL or origin → whether it belongs to a trusted page (TrustedPages.isTrustedOrigin). */
export type TrustedOrigin = (urlOrOrigin: string) => boolean;

/** The capture devices a trusted page may use. */
const MEDIA_TYPES: ReadonlySet<string> = new Set(['audio', 'video']);

/** Grant a permission request: microphone and camera only, every origin involved trusted. */
export function allowPermissionRequest(facts: PermissionRequestFacts, trusted: TrustedOrigin): boolean {
  if (facts.permission !== 'media') return false;
  if (!trusted(facts.requestingUrl)) return false;
  if (facts.securityOrigin !== undefined && !trusted(facts.securityOrigin)) return false;
  const types = facts.mediaTypes ?? [];
  return types.length > 0 && types.every((type) => MEDIA_TYPES.has(type));
}

/** Answer a permission check (device labels, `navigator.permissions`): microphone and camera only, trusted frames only. */
export function allowPermissionCheck(facts: PermissionCheckFacts, trusted: TrustedOrigin): boolean {
  if (facts.permission !== 'media' || facts.mediaType === undefined || !MEDIA_TYPES.has(facts.mediaType)) return false;
  if (facts.embeddingOrigin !== undefined) return false;
  const origins = [facts.requestingOrigin, facts.requestingUrl, facts.securityOrigin].filter((value): value is string => value !== undefined);
  return origins.every(trusted);
}
