// The package ships no types; only the 32-bit x86 hash is used (the favicon hash).
declare module 'murmurhash3js-revisited' {
  const murmurHash3: {
    x86: {
      /** MurmurHash3 x86 32-bit of the bytes, as an unsigned integer. */
      hash32(bytes: Uint8Array | number[], seed?: number): number;
    };
  };
  export default murmurHash3;
}
