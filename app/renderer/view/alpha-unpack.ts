import { looksAlphaPacked } from '../share/alpha-pack';

/** `unpack=alpha` always joins the halves, `none` never, `auto` (default) when a frame is packed (32:9). */
export type UnpackMode = 'auto' | 'alpha' | 'none';

export function unpackModeFromParam(value: string | null): UnpackMode {
  return value === 'alpha' || value === 'none' ? value : 'auto';
}

const VERTEX_SHADER = `
attribute vec2 corner;
varying vec2 uv;
void main() {
  uv = vec2(corner.x * 0.5 + 0.5, 0.5 - corner.y * 0.5);
  gl_Position = vec4(corner, 0.0, 1.0);
}`;

/**
 * Colour from the left half, alpha from the right half's grey. Video coding leaves a few levels of
 * noise at black and white: alpha is stretched so the empty background is exactly transparent and
 * the avatar exactly opaque. The colour is already premultiplied (drawn over black); it is kept
 * within the alpha as premultiplied output must be. The colour half's last texel column is the
 * limit, or filtering would mix in the alpha half.
 */
const FRAGMENT_SHADER = `
precision mediump float;
uniform sampler2D frame;
uniform float halfTexel;
varying vec2 uv;
void main() {
  float x = clamp(uv.x * 0.5, halfTexel, 0.5 - halfTexel);
  vec3 colour = texture2D(frame, vec2(x, uv.y)).rgb;
  float alpha = texture2D(frame, vec2(x + 0.5, uv.y)).g;
  alpha = clamp((alpha - 0.04) / 0.92, 0.0, 1.0);
  gl_FragColor = vec4(min(colour, vec3(alpha)), alpha);
}`;

function compile(gl: WebGLRenderingContext, type: number, source: string): WebGLShader {
  const shader = gl.createShader(type)!;
  gl.shaderSource(shader, source);
  gl.compileShader(shader);
  if (!gl.getShaderParameter(shader, gl.COMPILE_STATUS)) throw new Error(`The viewer's unpack shader does not compile: ${gl.getShaderInfoLog(shader) ?? ''}`);
  return shader;
}

/**
 * Turns an alpha-packed stream (share/alpha-pack.ts) back into a transparent picture: every frame
 * the video presents is uploaded once as a texture and drawn, halves joined, into a full-window
 * WebGL canvas (object-fit: contain). The video element stays in the page, invisible, for its
 * sound and decoding. Plain frames show the video as before (unless `alpha` forces unpacking).
 */
export class AlphaUnpacker {
  private readonly gl: WebGLRenderingContext;
  private readonly halfTexel: WebGLUniformLocation | null;
  private unpacking = false;
  private frameWidth = 0;
  private frameHeight = 0;
  private frameRequest = 0;

  constructor(
    private readonly video: HTMLVideoElement,
    readonly canvas: HTMLCanvasElement,
    private readonly mode: Exclude<UnpackMode, 'none'>,
  ) {
    const gl = canvas.getContext('webgl', { alpha: true, premultipliedAlpha: true, antialias: false, depth: false });
    if (!gl) throw new Error('This browser has no WebGL: the alpha-packed share cannot be unpacked (open the viewer with &unpack=none).');
    this.gl = gl;
    const program = gl.createProgram()!;
    gl.attachShader(program, compile(gl, gl.VERTEX_SHADER, VERTEX_SHADER));
    gl.attachShader(program, compile(gl, gl.FRAGMENT_SHADER, FRAGMENT_SHADER));
    gl.linkProgram(program);
    if (!gl.getProgramParameter(program, gl.LINK_STATUS)) throw new Error(`The viewer's unpack shader does not link: ${gl.getProgramInfoLog(program) ?? ''}`);
    gl.useProgram(program);
    this.halfTexel = gl.getUniformLocation(program, 'halfTexel');
    gl.bindBuffer(gl.ARRAY_BUFFER, gl.createBuffer());
    gl.bufferData(gl.ARRAY_BUFFER, new Float32Array([-1, -1, 1, -1, -1, 1, 1, 1]), gl.STATIC_DRAW);
    const corner = gl.getAttribLocation(program, 'corner');
    gl.enableVertexAttribArray(corner);
    gl.vertexAttribPointer(corner, 2, gl.FLOAT, false, 0, 0);
    gl.bindTexture(gl.TEXTURE_2D, gl.createTexture());
    // Video frames are not powers of two: no mipmaps, no repeat.
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.LINEAR);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, gl.LINEAR);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE);
    gl.pixelStorei(gl.UNPACK_PREMULTIPLY_ALPHA_WEBGL, false);
    gl.clearColor(0, 0, 0, 0);
    this.show(false);
    window.addEventListener('resize', () => this.draw(false));
    // A new stream (sender restart) may drop pending frame callbacks: ask again for its frames.
    video.addEventListener('loadedmetadata', () => this.watchFrames());
    this.watchFrames();
  }

  /** Whether the last frame was unpacked (the page shows the canvas, not the video). */
  get active(): boolean {
    return this.unpacking;
  }

  private watchFrames(): void {
    this.video.cancelVideoFrameCallback(this.frameRequest);
    this.frameRequest = this.video.requestVideoFrameCallback(this.onFrame);
  }

  private readonly onFrame = (): void => {
    this.frameRequest = this.video.requestVideoFrameCallback(this.onFrame);
    const { videoWidth, videoHeight } = this.video;
    const unpack = videoWidth > 0 && (this.mode === 'alpha' || looksAlphaPacked(videoWidth, videoHeight));
    if (unpack !== this.unpacking) this.show(unpack);
    if (!unpack) return;
    this.frameWidth = videoWidth;
    this.frameHeight = videoHeight;
    this.draw(true);
  };

  private show(unpack: boolean): void {
    this.unpacking = unpack;
    this.canvas.hidden = !unpack;
    // Invisible but laid out: a hidden video element may stop presenting frames.
    this.video.style.opacity = unpack ? '0' : '';
    document.documentElement.classList.toggle('unpacked', unpack);
  }

  /** Draws the unpacked picture, contained and centred, on a transparent window-sized canvas. */
  private draw(upload: boolean): void {
    if (!this.unpacking || this.frameWidth === 0) return;
    const gl = this.gl;
    const scale = window.devicePixelRatio || 1;
    const width = Math.round(this.canvas.clientWidth * scale);
    const height = Math.round(this.canvas.clientHeight * scale);
    if (this.canvas.width !== width || this.canvas.height !== height) {
      this.canvas.width = width;
      this.canvas.height = height;
    }
    if (upload) gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA, gl.RGBA, gl.UNSIGNED_BYTE, this.video);
    gl.viewport(0, 0, width, height);
    gl.clear(gl.COLOR_BUFFER_BIT);
    const pictureWidth = this.frameWidth / 2;
    const fit = Math.min(width / pictureWidth, height / this.frameHeight);
    const drawWidth = Math.round(pictureWidth * fit);
    const drawHeight = Math.round(this.frameHeight * fit);
    gl.viewport(Math.round((width - drawWidth) / 2), Math.round((height - drawHeight) / 2), drawWidth, drawHeight);
    gl.uniform1f(this.halfTexel, 0.5 / this.frameWidth);
    gl.drawArrays(gl.TRIANGLE_STRIP, 0, 4);
  }
}
