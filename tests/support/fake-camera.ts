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

/**
 * What a hand clip shows for a while: the face alone, the face and a raised open palm held still
 * beside it, or the palm waving (moving side to side over about 0.17 of the image's width, ever
 * faster: see `WAVE_CHIRP_SEC2`).
 */
export type HandScene = 'face' | 'palm' | 'wave';

/**
 * The wave's phase is t² / this many s² (a chirp): its speed grows through the scene, so frames taken
 * every few seconds — the loop's pace on a CPU, which the machine's load sets — land at scattered
 * points of the swing. A wave of a fixed period is aliased by some pace: at 1.3 s a period and a
 * frame every 3.9 s, each frame saw the hand 3 % of a period further on, and no swing in two minutes.
 */
const WAVE_CHIRP_SEC2 = 20;
/** Tighter than FACE_CROP: the man's own hand (holding chopsticks) would be the hand the models pick. */
const FACE_ONLY_CROP = 'crop=120:80:389:0,scale=-2:110';
/**
 * An open palm made from the hand photo (fingerpose's assets/nocurl.jpg: a hand held up, index
 * finger out, the others curled): the index finger is copied over the curled ones, so four fingers
 * stand out. Human's hand models (handtrack, handlandmark-lite) and finger-pose rules name it an
 * "open palm" (not a V-sign, a point or a thumb up). Scaled to 200 px high.
 */
const OPEN_PALM =
  '[1]split=2[h0][h1];[h1]crop=80:250:175:90,split=3[f1][f2][f3];[f3]scale=68:212[f3s];' +
  '[h0][f1]overlay=245:100[ha];[ha][f2]overlay=305:120[hb];[hb][f3s]overlay=362:160,crop=300:500:130:85,scale=-2:200';

/**
 * Writes a Y4M clip of `scenes` (the face on the left; a palm, still or waving, raised on the right)
 * from @vladmandic/human's sample photo and the hand photo at `handPhoto`.
 */
export function makeHandCameraClip(path: string, handPhoto: string, scenes: readonly { scene: HandScene; seconds: number }[], fps = 8): void {
  if (!FFMPEG) throw new Error(fakeCameraMissingReason()!);
  const n = scenes.length;
  const hands = scenes.filter(({ scene }) => scene !== 'face').length;
  const filters: string[] = [`[0:v]${FACE_ONLY_CROP},split=${n}${scenes.map((_, index) => `[face${index}]`).join('')}`];
  if (hands > 0) filters.push(`${OPEN_PALM},split=${hands}${Array.from({ length: hands }, (_, index) => `[hand${index}]`).join('')}`);
  let hand = 0;
  scenes.forEach(({ scene, seconds }, index) => {
    filters.push(`color=c=gray:s=${WIDTH_PX}x${HEIGHT_PX}:r=${fps}:d=${seconds}[bg${index}]`);
    const withFace = `[bg${index}][face${index}]overlay=x=${MARGIN_PX}:y=(H-h)/2:eof_action=repeat`;
    if (scene === 'face') filters.push(`${withFace}[v${index}]`);
    else {
      const x = scene === 'palm' ? 'W*0.55' : `W*(0.535+0.085*sin(2*PI*t*t/${WAVE_CHIRP_SEC2}))`;
      filters.push(`${withFace}[f${index}]`, `[f${index}][hand${hand++}]overlay=x='${x}':y=10:eof_action=repeat[v${index}]`);
    }
  });
  filters.push(`${scenes.map((_, index) => `[v${index}]`).join('')}concat=n=${n}:v=1:a=0,format=yuv420p[out]`);
  execFileSync(FFMPEG, ['-loglevel', 'error', '-y', '-i', SAMPLES_JPG, '-i', handPhoto, '-filter_complex', filters.join(';'), '-map', '[out]', '-f', 'yuv4mpegpipe', path], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
}
