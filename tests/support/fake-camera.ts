import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { root } from './avatar-e2e';

/**
 * Fake camera clips for Chromium (`--use-file-for-fake-video-capture`), made at test time with
 * ffmpeg from a photo shipped inside @vladmandic/human (a face from its `assets/samples.jpg`),
 * padded to the left or right of a grey frame. Nothing generated is committed.
 */

const SAMPLES_JPG = join(root, 'node_modules', '@vladmandic', 'human', 'assets', 'samples.jpg');
const FFMPEG = ['/usr/bin/ffmpeg', '/usr/local/bin/ffmpeg'].find((path) => existsSync(path));

/** Why fake camera clips cannot be made here, or null. */
export function fakeCameraMissingReason(): string | null {
  if (!FFMPEG) return 'ffmpeg is not installed (apt-get install ffmpeg): the fake camera clip cannot be made';
  if (!existsSync(SAMPLES_JPG)) return `${SAMPLES_JPG} is missing (npm install)`;
  return null;
}

/** What the camera shows for a while: nobody, or the face on the image's left or right. */
export type CameraScene = 'empty' | 'face-left' | 'face-right';

const WIDTH_PX = 320;
const HEIGHT_PX = 240;
/** A face cut from the third thumbnail of samples.jpg (a smiling man), scaled to half the frame's height. */
const FACE_CROP = 'crop=120:110:389:0,scale=-2:150';
const MARGIN_PX = 12;

/**
 * Writes a Y4M (4:2:0) clip of `scenes` in order, each held for its seconds, at `fps`, to `path`.
 * Chromium loops the file, so a clip should outlast the test that plays it.
 */
export function makeFakeCameraClip(path: string, scenes: readonly { scene: CameraScene; seconds: number }[], fps = 5): void {
  if (!FFMPEG) throw new Error(fakeCameraMissingReason()!);
  const faces = scenes.filter(({ scene }) => scene !== 'empty').length;
  const filters: string[] = faces > 0 ? [`[0:v]${FACE_CROP},split=${faces}${Array.from({ length: faces }, (_, index) => `[face${index}]`).join('')}`] : [];
  let face = 0;
  scenes.forEach(({ scene, seconds }, index) => {
    const background = `color=c=gray:s=${WIDTH_PX}x${HEIGHT_PX}:r=${fps}:d=${seconds}`;
    if (scene === 'empty') filters.push(`${background}[v${index}]`);
    else {
      const x = scene === 'face-left' ? `${MARGIN_PX}` : `W-w-${MARGIN_PX}`;
      filters.push(`${background}[bg${index}]`, `[bg${index}][face${face++}]overlay=x=${x}:y=(H-h)/2:eof_action=repeat[v${index}]`);
    }
  });
  filters.push(`${scenes.map((_, index) => `[v${index}]`).join('')}concat=n=${scenes.length}:v=1:a=0,format=yuv420p[out]`);
  execFileSync(FFMPEG, ['-loglevel', 'error', '-y', '-i', SAMPLES_JPG, '-filter_complex', filters.join(';'), '-map', '[out]', '-f', 'yuv4mpegpipe', path], { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Chromium flags for a fake camera (and microphone device list) playing `clipPath`, granted without asking. */
export function fakeCameraArgs(clipPath: string): string[] {
  return ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', `--use-file-for-fake-video-capture=${clipPath}`];
}
