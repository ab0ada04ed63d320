import {
  ACESFilmicToneMapping,
  AgXToneMapping,
  CineonToneMapping,
  LinearToneMapping,
  NeutralToneMapping,
  NoToneMapping,
  ReinhardToneMapping,
  ShaderMaterial,
  SRGBColorSpace,
  type Texture,
  type ToneMapping,
  type WebGLRenderer,
} from 'three';

const vertexShader = /* glsl */ `
uniform sampler2D matcap;

#include <common>
#include <color_pars_vertex>
#include <morphtarget_pars_vertex>
#include <tonemapping_pars_fragment>
#include <colorspace_pars_fragment>

varying vec3 vShade;

void main() {
  #include <color_vertex>
  #include <morphinstance_vertex>
  #include <morphcolor_vertex>
  #include <beginnormal_vertex>
  #include <morphnormal_vertex>
  #include <defaultnormal_vertex>
  #include <begin_vertex>
  #include <morphtarget_vertex>
  #include <project_vertex>
  // The lookup of MeshMatcapMaterial, per vertex: the view-space normal in the frame of the view ray.
  vec3 viewDir = normalize( - mvPosition.xyz );
  vec3 normal = normalize( transformedNormal );
  vec3 x = normalize( vec3( viewDir.z, 0.0, - viewDir.x ) );
  vec3 y = cross( viewDir, x );
  vec2 matcapUv = vec2( dot( x, normal ), dot( y, normal ) ) * 0.495 + 0.5;
  vec3 shade = textureLod( matcap, matcapUv, 0.0 ).rgb;
  #ifdef USE_COLOR
    shade *= vColor.rgb;
  #endif
  // What the frame's output would do to this colour in each pixel, done once a vertex.
  #ifdef VERTEX_TONE_MAPPING
    shade = VERTEX_TONE_MAPPING( shade );
  #endif
  #ifdef VERTEX_SRGB_OUTPUT
    shade = sRGBTransferOETF( vec4( shade, 1.0 ) ).rgb;
  #endif
  vShade = shade;
}
`;

const fragmentShader = /* glsl */ `
varying vec3 vShade;

void main() {
  gl_FragColor = vec4( vShade, 1.0 );
}
`;

/** three.js's tone-mapping functions (tonemapping_pars_fragment), by the renderer's setting. */
const TONE_MAPPING_FUNCTIONS: Partial<Record<ToneMapping, string>> = {
  [LinearToneMapping]: 'LinearToneMapping',
  [ReinhardToneMapping]: 'ReinhardToneMapping',
  [CineonToneMapping]: 'CineonToneMapping',
  [ACESFilmicToneMapping]: 'ACESFilmicToneMapping',
  [AgXToneMapping]: 'AgXToneMapping',
  [NeutralToneMapping]: 'NeutralToneMapping',
};

/** The defines that make the vertex stage do the frame's tone mapping and output encoding. */
export function vertexOutputDefines(toneMapping: ToneMapping, outputColorSpace: string): Record<string, string> {
  const defines: Record<string, string> = {};
  const toneMappingFunction = toneMapping === NoToneMapping ? undefined : TONE_MAPPING_FUNCTIONS[toneMapping];
  if (toneMappingFunction) defines.VERTEX_TONE_MAPPING = toneMappingFunction;
  if (outputColorSpace === SRGBColorSpace) defines.VERTEX_SRGB_OUTPUT = '';
  return defines;
}

/**
 * A matcap shaded entirely per vertex: the lookup, the texture read, the vertex colour, the tone
 * mapping and the output encoding run once a vertex, and each pixel only writes the interpolated
 * colour. On software GL a pixel's texture read, tone mapping and sRGB encoding cost about 60 % of
 * the built-in avatar's frame (measured: 13.2 → 5.5 ms at 900×720 on SwiftShader); on its finely
 * tessellated surfaces the interpolated colour looks the same. Front faces only (a back face would
 * need the flipped normal), and only for the frame buffer the renderer draws to the screen: the
 * output encoding is fixed when the material is made.
 */
export function createVertexMatcapMaterial(matcap: Texture, vertexColors: boolean, renderer: Pick<WebGLRenderer, 'toneMapping' | 'outputColorSpace'>): ShaderMaterial {
  return new ShaderMaterial({
    uniforms: { matcap: { value: matcap } },
    vertexShader,
    fragmentShader,
    vertexColors,
    defines: vertexOutputDefines(renderer.toneMapping, renderer.outputColorSpace),
    // The vertex stage already tone-maps; the fragment stage must not do it again.
    toneMapped: false,
  });
}
