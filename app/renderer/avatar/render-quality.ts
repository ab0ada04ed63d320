/** How hard the renderer may work: software GL (SwiftShader, llvmpipe) gets a lighter frame. */
export interface RenderQuality {
  software: boolean;
  antialias: boolean;
  dpr: number | [number, number];
  /**
   * `full`: the built-in avatar lit per pixel (physically based skin with sheen, glossy eyes with
   * clearcoat, five lights) and shaped by GPU morph targets.
   * `light`: the same look from matcaps baked at start from those materials and lights, read once a
   * pixel, and face shapes set in JavaScript (software GL pays for every fragment and vertex on the
   * CPU). Loaded avatars get four lights.
   */
  detail: 'full' | 'light';
}

/** Probes the GL renderer once with a throwaway context; `?quality=full|light` overrides the detail. */
export function detectRenderQuality(): RenderQuality {
  let renderer = '';
  try {
    const gl = document.createElement('canvas').getContext('webgl2');
    if (gl) {
      const info = gl.getExtension('WEBGL_debug_renderer_info');
      renderer = String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
      gl.getExtension('WEBGL_lose_context')?.loseContext();
    }
  } catch {
    // No WebGL at all: the scene's error boundary reports it.
  }
  const software = /swiftshader|llvmpipe|software|softpipe/i.test(renderer);
  const requested = new URLSearchParams(window.location.search).get('quality');
  const detail = requested === 'full' || requested === 'light' ? requested : software ? 'light' : 'full';
  // Software rasterizers are pixel-bound: no multisampling, one pixel per CSS pixel.
  return software ? { software, antialias: false, dpr: 1, detail } : { software, antialias: true, dpr: [1, 2], detail };
}
