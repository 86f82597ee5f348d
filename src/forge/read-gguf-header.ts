import { open } from "node:fs/promises";
import { GGUF_ALIGNMENT } from "./gguf-header";

export type GgufMetadataValue = number | bigint | boolean | string | GgufMetadataValue[];

export type GgufHeader = {
  version: number;
  metadata: Record<string, GgufMetadataValue>;
  tensors: { name: string; dims: number[]; type: number; offset: number }[];
  /** Absolute file offset of the data section. */
  dataOffset: number;
};

class NeedMoreBytes extends Error {}

/**
 * Reads the header, metadata and tensor infos of any GGUF v2/v3 file without reading its
 * tensor data: it reads a growing prefix until the header fits.
 */
export async function readGgufHeader(path: string): Promise<GgufHeader> {
  const file = await open(path, "r");
  try {
    const size = (await file.stat()).size;
    for (let length = Math.min(size, 1 << 20); ; length = Math.min(size, length * 4)) {
      const prefix = new Uint8Array(length);
      await file.read(prefix, 0, length, 0);
      try {
        return parseGgufHeader(prefix);
      } catch (error) {
        if (!(error instanceof NeedMoreBytes) || length === size) {
          throw error instanceof NeedMoreBytes ? new Error(`${path}: GGUF header runs past the end of the file`) : error;
        }
      }
    }
  } finally {
    await file.close();
  }
}

function parseGgufHeader(bytes: Uint8Array): GgufHeader {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const decoder = new TextDecoder();
  let at = 0;
  const take = (n: number) => {
    if (at + n > bytes.length) throw new NeedMoreBytes();
    const start = at;
    at += n;
    return start;
  };
  const u32 = () => view.getUint32(take(4), true);
  const u64 = () => Number(view.getBigUint64(take(8), true));
  const string = () => {
    const length = u64();
    const start = take(length);
    return decoder.decode(bytes.subarray(start, start + length));
  };
  const scalar = (type: number): GgufMetadataValue => {
    switch (type) {
      case 0: return view.getUint8(take(1));
      case 1: return view.getInt8(take(1));
      case 2: return view.getUint16(take(2), true);
      case 3: return view.getInt16(take(2), true);
      case 4: return view.getUint32(take(4), true);
      case 5: return view.getInt32(take(4), true);
      case 6: return view.getFloat32(take(4), true);
      case 7: return view.getUint8(take(1)) !== 0;
      case 8: return string();
      case 9: {
        const elementType = u32();
        const count = u64();
        return Array.from({ length: count }, () => scalar(elementType));
      }
      case 10: return view.getBigUint64(take(8), true);
      case 11: return view.getBigInt64(take(8), true);
      case 12: return view.getFloat64(take(8), true);
      default: throw new Error(`unknown GGUF value type ${type} at byte ${at - 4}`);
    }
  };

  const magic = decoder.decode(bytes.subarray(take(4), at));
  if (magic !== "GGUF") throw new Error(`not a GGUF file (magic ${JSON.stringify(magic)})`);
  const version = u32();
  const tensorCount = u64();
  const kvCount = u64();
  const metadata: Record<string, GgufMetadataValue> = {};
  for (let i = 0; i < kvCount; i++) {
    const key = string();
    metadata[key] = scalar(u32());
  }
  const tensors: GgufHeader["tensors"] = [];
  for (let i = 0; i < tensorCount; i++) {
    const name = string();
    const nDims = u32();
    const dims = Array.from({ length: nDims }, u64);
    tensors.push({ name, dims, type: u32(), offset: u64() });
  }
  const alignment = typeof metadata["general.alignment"] === "number" ? metadata["general.alignment"] : GGUF_ALIGNMENT;
  return { version, metadata, tensors, dataOffset: Math.ceil(at / alignment) * alignment };
}
