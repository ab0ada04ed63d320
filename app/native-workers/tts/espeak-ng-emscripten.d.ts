/** The package ships JavaScript only; espeak-wasm.ts types the parts it uses. */
declare module '@echogarden/espeak-ng-emscripten' {
  const createModule: () => Promise<unknown>;
  export default createModule;
}
