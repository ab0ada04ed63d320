import {
  FrontSide,
  HalfFloatType,
  LinearFilter,
  type Material,
  Mesh,
  OrthographicCamera,
  type Quaternion,
  Scene,
  SphereGeometry,
  type Texture,
  UnsignedByteType,
  Vector3,
  type WebGLRenderer,
  WebGLRenderTarget,
} from 'three';
import { createLights, type LightSpec } from './light-rig';

/** Matcaps side by side in one texture: a `grid` × `grid` square of tiles. */
export interface MatcapAtlas {
  texture: Texture;
  grid: number;
}

/**
 * Bakes lit materials into matcaps: each material is rendered once on a unit sphere, seen from
 * the stage camera's direction under the stage's lights, into a texture indexed by view-space
 * normal. A `MeshMatcapMaterial` with that texture then shades a surface as the original material
 * would under the same fixed lights and camera, with one texture read per pixel instead of
 * physically based lighting per light (software GL pays for every fragment on the CPU).
 */
export class MatcapBaker {
  private readonly scene = new Scene();
  private readonly camera = new OrthographicCamera(-1, 1, 1, -1, 0.5, 4);
  private readonly sphere = new Mesh(new SphereGeometry(1, 96, 64));
  private readonly targets: WebGLRenderTarget[] = [];

  /**
   * `viewQuaternion`: the stage camera's orientation. `sizePx`: matcap resolution; the sphere
   * fills the square so every texel a lookup can reach lies on it.
   */
  constructor(
    private readonly renderer: WebGLRenderer,
    lights: readonly LightSpec[],
    viewQuaternion: Quaternion,
    private readonly sizePx = 256,
  ) {
    for (const light of createLights(lights)) this.scene.add(light);
    this.scene.add(this.sphere);
    this.camera.quaternion.copy(viewQuaternion);
    this.camera.position.copy(new Vector3(0, 0, 2).applyQuaternion(viewQuaternion));
    this.camera.updateMatrixWorld();
  }

  /**
   * The matcaps of `materials` (drawn front side only; they must not use vertex colours or maps:
   * the sphere has neither) in one texture, a square grid of tiles in the given order (tile
   * `i` at column `i % grid`, row `floor(i / grid)`), so that surfaces with different matcaps can
   * share one draw. Each tile is the whole bake of its material.
   */
  bakeAtlas(materials: readonly Material[]): MatcapAtlas {
    const grid = Math.max(1, Math.ceil(Math.sqrt(materials.length)));
    // Radiance above 1 (highlights) survives to the tone mapping of the final frame in half floats.
    const hdr = this.renderer.extensions.has('EXT_color_buffer_float') || this.renderer.extensions.has('EXT_color_buffer_half_float');
    const target = new WebGLRenderTarget(this.sizePx * grid, this.sizePx * grid, {
      type: hdr ? HalfFloatType : UnsignedByteType,
      minFilter: LinearFilter,
      magFilter: LinearFilter,
      generateMipmaps: false,
      // One convex sphere drawn front faces only needs no depth test.
      depthBuffer: false,
    });
    // Each tile is cleared and drawn within its own square.
    target.scissorTest = true;
    const previous = this.renderer.getRenderTarget();
    materials.forEach((material, tile) => {
      const x = (tile % grid) * this.sizePx;
      const y = Math.floor(tile / grid) * this.sizePx;
      target.viewport.set(x, y, this.sizePx, this.sizePx);
      target.scissor.set(x, y, this.sizePx, this.sizePx);
      material.side = FrontSide;
      this.sphere.material = material;
      this.renderer.setRenderTarget(target);
      this.renderer.clear();
      this.renderer.render(this.scene, this.camera);
    });
    this.renderer.setRenderTarget(previous);
    this.targets.push(target);
    return { texture: target.texture, grid };
  }

  /** Frees the bake scene (the baked textures stay until `disposeTextures`). */
  disposeScene(): void {
    this.sphere.geometry.dispose();
  }

  /** Frees every texture this baker made. */
  disposeTextures(): void {
    for (const target of this.targets) target.dispose();
    this.targets.length = 0;
  }
}
