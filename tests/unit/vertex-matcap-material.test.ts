import { ACESFilmicToneMapping, LinearSRGBColorSpace, NeutralToneMapping, NoToneMapping, SRGBColorSpace, Texture } from 'three';
import { describe, expect, it } from 'vitest';
import { createVertexMatcapMaterial, vertexOutputDefines } from '../../app/renderer/avatar/vertex-matcap-material';

describe('vertex matcap material', () => {
  it("does the frame's tone mapping and sRGB encoding in the vertex stage, as the renderer is set", () => {
    expect(vertexOutputDefines(ACESFilmicToneMapping, SRGBColorSpace)).toEqual({ VERTEX_TONE_MAPPING: 'ACESFilmicToneMapping', VERTEX_SRGB_OUTPUT: '' });
    expect(vertexOutputDefines(NeutralToneMapping, SRGBColorSpace)).toEqual({ VERTEX_TONE_MAPPING: 'NeutralToneMapping', VERTEX_SRGB_OUTPUT: '' });
    expect(vertexOutputDefines(NoToneMapping, LinearSRGBColorSpace)).toEqual({});
  });

  it('leaves nothing for the fragment stage to redo', () => {
    const material = createVertexMatcapMaterial(new Texture(), true, { toneMapping: ACESFilmicToneMapping, outputColorSpace: SRGBColorSpace });
    // three.js would tone-map again per pixel; the fragment stage only writes the vertex colour.
    expect(material.toneMapped).toBe(false);
    expect(material.fragmentShader).not.toMatch(/texture|tonemapping|colorspace/i);
    expect(material.vertexShader).toMatch(/VERTEX_TONE_MAPPING\( shade \)/);
    expect(material.vertexColors).toBe(true);
    material.dispose();
  });
});
