import { ACESFilmicToneMapping, DoubleSide, FrontSide, LinearSRGBColorSpace, NeutralToneMapping, NoToneMapping, SRGBColorSpace, Texture } from 'three';
import { describe, expect, it } from 'vitest';
import { createVertexMatcapMaterial, vertexOutputDefines } from '../../app/renderer/avatar/vertex-matcap-material';

describe('vertex matcap material', () => {
  it("does the frame's tone mapping and sRGB encoding in the vertex stage, as the renderer is set", () => {
    expect(vertexOutputDefines(ACESFilmicToneMapping, SRGBColorSpace)).toEqual({ VERTEX_TONE_MAPPING: 'ACESFilmicToneMapping', VERTEX_SRGB_OUTPUT: '' });
    expect(vertexOutputDefines(NeutralToneMapping, SRGBColorSpace)).toEqual({ VERTEX_TONE_MAPPING: 'NeutralToneMapping', VERTEX_SRGB_OUTPUT: '' });
    expect(vertexOutputDefines(NoToneMapping, LinearSRGBColorSpace)).toEqual({});
  });

  it('leaves nothing for the fragment stage to redo', () => {
    const renderer = { toneMapping: ACESFilmicToneMapping, outputColorSpace: SRGBColorSpace } as const;
    const atlas = { texture: new Texture(), grid: 4 };
    const front = createVertexMatcapMaterial({ atlas, doubleSided: false, renderer });
    // three.js would tone-map again per pixel; the fragment stage only writes the vertex colour.
    expect(front.toneMapped).toBe(false);
    expect(front.fragmentShader).not.toMatch(/texture|tonemapping|colorspace/i);
    expect(front.vertexShader).toMatch(/VERTEX_TONE_MAPPING\( colour \)/);
    expect(front.vertexColors).toBe(true);
    expect(front.side).toBe(FrontSide);
    expect(front.uniforms.matcapGrid!.value).toBe(4);
    const both = createVertexMatcapMaterial({ atlas, doubleSided: true, renderer });
    // Back faces take the colour shaded for the flipped normal.
    expect(both.side).toBe(DoubleSide);
    expect(both.defines).toHaveProperty('DOUBLE_SIDED');
    expect(front.defines).not.toHaveProperty('DOUBLE_SIDED');
    front.dispose();
    both.dispose();
  });
});
