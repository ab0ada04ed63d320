/** How hard the renderer may work: software GL (SwiftShader, llvmpipe) gets a lighter frame. */
export interface RenderQuality {
  software: boolean;
  antialias: boolean;
  dpr: number | [number, number];
  /**
   * `full`: physically based skin (sheen), glossy eyes (clearcoat), dense hair, five lights.
   * `light`: the same shapes and colours with standard materials and four lights
   * (software GL pays for every fragment and vertex on the CPU).
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
