/**
 * Bytes across the ABI: the core speaks base64 (standard, padded) for keys and signatures, WebCrypto speaks bytes.
 * `atob` / `btoa` are in every runtime the SDK supports; the core checks every base64 text it reads.
 *
 * @module
 */

/** Standard padded base64 of `bytes`. */
export function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

/** The bytes of a base64 text the core wrote. */
export function fromBase64(text: string): Uint8Array {
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}
