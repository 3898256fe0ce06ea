// Typed arrays <-> SQLite BLOBs. Reads copy into a fresh buffer because SQLite's buffers are not
// 4-byte aligned and a Uint32Array view needs alignment.
export function u32ToBlob(a: Uint32Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

export function blobToU32(b: Buffer): Uint32Array {
  const out = new Uint32Array(b.byteLength >>> 2);
  new Uint8Array(out.buffer).set(b.subarray(0, out.byteLength));
  return out;
}

export function f32ToBlob(a: Float32Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

export function blobToF32(b: Buffer): Float32Array {
  const out = new Float32Array(b.byteLength >>> 2);
  new Uint8Array(out.buffer).set(b.subarray(0, out.byteLength));
  return out;
}
