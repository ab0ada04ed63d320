import { ShaderMaterial, type Texture } from 'three';

const vertexShader = /* glsl */ `
#include <common>
#include <color_pars_vertex>
#include <morphtarget_pars_vertex>

varying vec2 vMatcapUv;

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
  vMatcapUv = vec2( dot( x, normal ), dot( y, normal ) ) * 0.495 + 0.5;
}
`;

const fragmentShader = /* glsl */ `
uniform sampler2D matcap;

#include <common>
#include <color_pars_fragment>

varying vec2 vMatcapUv;

void main() {
  vec4 diffuseColor = vec4( 1.0 );
  #include <color_fragment>
  gl_FragColor = vec4( diffuseColor.rgb * texture2D( matcap, vMatcapUv ).rgb, 1.0 );
  #include <tonemapping_fragment>
  #include <colorspace_fragment>
}
`;

/**
 * A matcap shaded with its lookup coordinate computed per vertex and the texture read per pixel:
 * one interpolated coordinate and one texture read a pixel, where MeshMatcapMaterial interpolates
 * a normal and a view vector and rebuilds the lookup frame in every pixel. Same result on smooth,
 * finely tessellated surfaces; front faces only (a back face would need the flipped normal).
 */
export function createVertexMatcapMaterial(matcap: Texture, vertexColors: boolean): ShaderMaterial {
  return new ShaderMaterial({ uniforms: { matcap: { value: matcap } }, vertexShader, fragmentShader, vertexColors });
}
