/** `.wasm` files imported as compiled modules (workerd's `CompiledWasm` rule; see platform.workerd.ts). */
declare module '*.wasm' {
  const module: WebAssembly.Module;
  export default module;
}
