import {
  ACESFilmicToneMapping,
  AgXToneMapping,
  CineonToneMapping,
  DoubleSide,
  FrontSide,
  LinearToneMapping,
  NeutralToneMapping,
  NoToneMapping,
  ReinhardToneMapping,
  ShaderMaterial,
  SRGBColorSpace,
  type ToneMapping,
  type WebGLRenderer,
} from 'three';
import type { MatcapAtlas } from './matcap-bake';

const vertexShader = /* glsl */ `
uniform sampler2D matcap;
uniform float matcapGrid;
attribute float matcapTile;

#include <common>
#include <color_pars_vertex>
#include <morphtarget_pars_vertex>
#include <tonemapping_pars_fragment>
#include <colorspace_pars_fragment>

varying vec3 vShade;
#ifdef DOUBLE_SIDED
  varying vec3 vShadeBack;
#endif

/** The colour the frame shows for this normal: the matcap's, tinted, tone-mapped and encoded. */
vec3 shade( vec3 normal, vec3 viewDir, vec2 tile ) {
  // The lookup of MeshMatcapMaterial: the view-space normal in the frame of the view ray.
  vec3 x = normalize( vec3( viewDir.z, 0.0, - viewDir.x ) );
  vec3 y = cross( viewDir, x );
  vec2 matcapUv = vec2( dot( x, normal ), dot( y, normal ) ) * 0.495 + 0.5;
  vec3 colour = textureLod( matcap, ( tile + matcapUv ) / matcapGrid, 0.0 ).rgb;
  #ifdef USE_COLOR
    colour *= vColor.rgb;
  #endif
  // What the frame's output would do to this colour in each pixel, done once a vertex.
  #ifdef VERTEX_TONE_MAPPING
    colour = VERTEX_TONE_MAPPING( colour );
  #endif
  #ifdef VERTEX_SRGB_OUTPUT
    colour = sRGBTransferOETF( vec4( colour, 1.0 ) ).rgb;
  #endif
  return colour;
}

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
  vec3 viewDir = normalize( - mvPosition.xyz );
  vec3 normal = normalize( transformedNormal );
  vec2 tile = vec2( mod( matcapTile, matcapGrid ), floor( matcapTile / matcapGrid ) );
  vShade = shade( normal, viewDir, tile );
  #ifdef DOUBLE_SIDED
    // A back face is shaded with the flipped normal, as three.js's double-sided materials are.
    vShadeBack = shade( - normal, viewDir, tile );
  #endif
}
`;

const fragmentShader = /* glsl */ `
varying vec3 vShade;
#ifdef DOUBLE_SIDED
  varying vec3 vShadeBack;
#endif

void main() {
  #ifdef DOUBLE_SIDED
    gl_FragColor = vec4( gl_FrontFacing ? vShade : vShadeBack, 1.0 );
  #else
    gl_FragColor = vec4( vShade, 1.0 );
  #endif
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

export interface VertexMatcapOptions {
  atlas: MatcapAtlas;
  /** Shade back faces too (with the flipped normal): thin or inside surfaces such as lashes and the mouth. */
  doubleSided: boolean;
  /** The renderer that draws the frame: its tone mapping and output colour space are applied per vertex. */
  renderer: Pick<WebGLRenderer, 'toneMapping' | 'outputColorSpace'>;
}

/**
 * Matcaps shaded entirely per vertex: the lookup, the texture read, the vertex colour, the tone
 * mapping and the output encoding run once a vertex, and each pixel only writes the interpolated
 * colour. On software GL a pixel's texture read, tone mapping and sRGB encoding cost about 60 % of
 * the built-in avatar's frame (measured: 13.2 → 5.5 ms at 900×720 on SwiftShader); on its finely
 * tessellated surfaces the interpolated colour looks the same. Each vertex picks its surface's
 * tile of the atlas (attribute `matcapTile`), so one draw shades many surfaces. Geometries need
 * `matcapTile` and `color` attributes. Only for the frame buffer the renderer draws to the screen:
 * the output encoding is fixed when the material is made.
 */
export function createVertexMatcapMaterial({ atlas, doubleSided, renderer }: VertexMatcapOptions): ShaderMaterial {
  const defines = vertexOutputDefines(renderer.toneMapping, renderer.outputColorSpace);
  if (doubleSided) defines.DOUBLE_SIDED = '';
  return new ShaderMaterial({
    uniforms: { matcap: { value: atlas.texture }, matcapGrid: { value: atlas.grid } },
    vertexShader,
    fragmentShader,
    vertexColors: true,
    side: doubleSided ? DoubleSide : FrontSide,
    defines,
    // The vertex stage already tone-maps; the fragment stage must not do it again.
    toneMapped: false,
  });
}
