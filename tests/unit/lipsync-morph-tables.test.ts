import { describe, expect, it } from 'vitest';
import {
  ARKIT_MORPH_TABLE,
  AvatarFormat,
  DEFAULT_AVATAR_MORPH_TABLE,
  MORPH_TABLES,
  morphTargetNames,
  OCULUS_MORPH_TABLE,
  visemeWeightsToMorphs,
  VRM0_MORPH_TABLE,
  VRM1_MORPH_TABLE,
} from '../../app/shared/lipsync/morph-tables';
import { VISEMES } from '../../app/shared/phoneme.contract';

describe('viseme → morph tables', () => {
  it('has a table for every avatar format with an entry for every viseme, weights in [0, 1]', () => {
    expect(Object.keys(MORPH_TABLES).sort()).toEqual(Object.values(AvatarFormat).sort());
    for (const table of Object.values(MORPH_TABLES)) {
      expect(Object.keys(table).sort()).toEqual([...VISEMES].sort());
      for (const viseme of VISEMES) {
        for (const weight of Object.values(table[viseme])) {
          expect(weight).toBeGreaterThan(0);
          expect(weight).toBeLessThanOrEqual(1);
        }
      }
    }
  });

  it('names the morphs of each format', () => {
    expect(morphTargetNames(OCULUS_MORPH_TABLE)).toEqual([
      'viseme_sil', 'viseme_PP', 'viseme_FF', 'viseme_TH', 'viseme_DD', 'viseme_kk', 'viseme_CH', 'viseme_SS',
      'viseme_nn', 'viseme_RR', 'viseme_aa', 'viseme_E', 'viseme_I', 'viseme_O', 'viseme_U',
    ]);
    expect(morphTargetNames(DEFAULT_AVATAR_MORPH_TABLE)).toEqual(morphTargetNames(OCULUS_MORPH_TABLE));
    expect(morphTargetNames(VRM1_MORPH_TABLE).sort()).toEqual(['aa', 'ee', 'ih', 'oh', 'ou']);
    expect(morphTargetNames(VRM0_MORPH_TABLE).sort()).toEqual(['A', 'E', 'I', 'O', 'U']);
    expect(morphTargetNames(ARKIT_MORPH_TABLE)).toEqual(expect.arrayContaining(['jawOpen', 'mouthClose', 'mouthFunnel', 'mouthPucker', 'mouthPressLeft', 'mouthRollLower', 'tongueOut']));
  });

  it('pins the shapes that matter: open jaw for aa, closed pressed lips for PP, rounded lips for ou, tongue for TH', () => {
    expect(ARKIT_MORPH_TABLE.aa.jawOpen).toBe(0.7);
    expect(ARKIT_MORPH_TABLE.PP).toMatchObject({ mouthPressLeft: 0.6, mouthPressRight: 0.6, jawOpen: 0.05 });
    expect(ARKIT_MORPH_TABLE.ou).toMatchObject({ mouthPucker: 0.8, mouthFunnel: 0.4 });
    expect(ARKIT_MORPH_TABLE.TH.tongueOut).toBe(0.5);
    expect(ARKIT_MORPH_TABLE.sil).toEqual({});
    expect(VRM1_MORPH_TABLE.E).toEqual({ ee: 1 });
    expect(VRM0_MORPH_TABLE.E).toEqual({ E: 1 });
    expect(VRM0_MORPH_TABLE.CH).toEqual({ U: 0.4, I: 0.2 });
    expect(OCULUS_MORPH_TABLE.ih).toEqual({ viseme_I: 1 });
  });

  it('mixes viseme weights through a table, setting every morph and clamping to 1', () => {
    expect(visemeWeightsToMorphs({ aa: 0.5, oh: 0.5 }, ARKIT_MORPH_TABLE)).toMatchObject({ jawOpen: 0.575, mouthFunnel: 0.3, mouthPucker: 0.1, mouthClose: 0 });
    expect(visemeWeightsToMorphs({ sil: 0.25, aa: 0.75 }, OCULUS_MORPH_TABLE)).toEqual({
      viseme_sil: 0.25, viseme_PP: 0, viseme_FF: 0, viseme_TH: 0, viseme_DD: 0, viseme_kk: 0, viseme_CH: 0, viseme_SS: 0,
      viseme_nn: 0, viseme_RR: 0, viseme_aa: 0.75, viseme_E: 0, viseme_I: 0, viseme_O: 0, viseme_U: 0,
    });
    const out: Record<string, number> = { aa: 0.9 };
    expect(visemeWeightsToMorphs({ ou: 1, RR: 1 }, VRM1_MORPH_TABLE, out)).toBe(out);
    expect(out).toEqual({ aa: 0, ih: 0, ou: 1, ee: 0, oh: 0.2 });
  });
});
