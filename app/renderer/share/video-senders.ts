import { SHARE_PRESETS, type SharePresetName } from '../../shared/share.contract';

/**
 * Caps every video sender of `pc` at the preset's bitrate and frame rate, at full resolution, and
 * says what the encoder gives up under pressure. Encodings exist once the offer or answer is set
 * locally, so callers run this on signaling changes, before the first frame is encoded.
 */
export async function tuneVideoSenders(pc: RTCPeerConnection, presetName: SharePresetName, degradationPreference: RTCDegradationPreference): Promise<void> {
  if (pc.signalingState === 'closed') return;
  const preset = SHARE_PRESETS[presetName];
  for (const sender of pc.getSenders()) {
    if (sender.track?.kind !== 'video') continue;
    const parameters = sender.getParameters();
    if (parameters.encodings.length === 0) continue;
    for (const encoding of parameters.encodings) {
      encoding.maxBitrate = preset.maxBitrateKbps * 1000;
      encoding.maxFramerate = preset.fps;
      encoding.scaleResolutionDownBy = 1;
    }
    parameters.degradationPreference = degradationPreference;
    await sender.setParameters(parameters).catch(() => undefined);
  }
}
