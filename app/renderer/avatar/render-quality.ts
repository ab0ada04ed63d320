/** How hard the renderer may work: software GL (SwiftShader, llvmpipe) gets a lighter frame. */
export interface RenderQuality {
  software: boolean;
  antialias: boolean;
  dpr: number | [number, number];
}

/** Probes the GL renderer once with a throwaway context. */
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
  // Software rasterizers are pixel-bound: no multisampling, one pixel per CSS pixel.
  return software ? { software, antialias: false, dpr: 1 } : { software, antialias: true, dpr: [1, 2] };
}
