/** The subset of GGUF v3 the forge writes and reads back. */

export const GGUF_ALIGNMENT = 32;

export const GgmlType = { f32: 0, f16: 1, q8_0: 8 } as const;
export type GgmlTypeName = keyof typeof GgmlType;

/** GGUF metadata value types. */
export const GgufValueType = {
  u32: 4,
  i32: 5,
  f32: 6,
  bool: 7,
  string: 8,
  array: 9,
} as const;

export type GgufValue =
  | { type: "u32" | "i32" | "f32"; value: number }
  | { type: "bool"; value: boolean }
  | { type: "string"; value: string }
  | { type: "f32[]" | "i32[]"; value: number[] }
  | { type: "string[]"; value: string[] };

export type GgufTensorInfo = {
  name: string;
  /** ne0 first: ne0 is the contiguous dimension. */
  dims: number[];
  type: GgmlTypeName;
};

/** Bytes a tensor's data takes, before padding to the alignment. */
export function tensorByteSize(info: GgufTensorInfo): number {
  const elements = info.dims.reduce((a, b) => a * b, 1);
  switch (info.type) {
    case "f32":
      return elements * 4;
    case "f16":
      return elements * 2;
    case "q8_0":
      return (elements / 32) * 34;
  }
}

export function alignUp(offset: number): number {
  return Math.ceil(offset / GGUF_ALIGNMENT) * GGUF_ALIGNMENT;
}

/**
 * Header, metadata and tensor infos, padded so the data section starts aligned; tensors
 * follow in `tensors` order, each padded to the alignment.
 */
export function encodeGgufHeader(metadata: [string, GgufValue][], tensors: GgufTensorInfo[]): Uint8Array {
  const out = new ByteSink();
  out.bytes(new TextEncoder().encode("GGUF"));
  out.u32(3);
  out.u64(tensors.length);
  out.u64(metadata.length);
  for (const [key, value] of metadata) {
    out.string(key);
    writeValue(out, value);
  }
  let offset = 0;
  for (const tensor of tensors) {
    out.string(tensor.name);
    out.u32(tensor.dims.length);
    for (const dim of tensor.dims) out.u64(dim);
    out.u32(GgmlType[tensor.type]);
    out.u64(offset);
    offset = alignUp(offset + tensorByteSize(tensor));
  }
  out.bytes(new Uint8Array(alignUp(out.length) - out.length));
  return out.finish();
}

function writeValue(out: ByteSink, value: GgufValue): void {
  switch (value.type) {
    case "u32":
      out.u32(GgufValueType.u32);
      return out.u32(value.value);
    case "i32":
      out.u32(GgufValueType.i32);
      return out.i32(value.value);
    case "f32":
      out.u32(GgufValueType.f32);
      return out.f32(value.value);
    case "bool":
      out.u32(GgufValueType.bool);
      return out.bytes(Uint8Array.of(value.value ? 1 : 0));
    case "string":
      out.u32(GgufValueType.string);
      return out.string(value.value);
    case "f32[]":
    case "i32[]":
    case "string[]": {
      out.u32(GgufValueType.array);
      const elementType = value.type === "f32[]" ? "f32" : value.type === "i32[]" ? "i32" : "string";
      out.u32(GgufValueType[elementType]);
      out.u64(value.value.length);
      for (const element of value.value) {
        if (typeof element === "string") out.string(element);
        else if (elementType === "f32") out.f32(element);
        else out.i32(element);
      }
    }
  }
}

/** Little-endian append-only buffer. */
class ByteSink {
  private buffer = new Uint8Array(1 << 16);
  private view = new DataView(this.buffer.buffer);
  length = 0;

  /** Grows the buffer (replacing `view`, so take the offset before touching it). */
  private reserve(n: number): number {
    if (this.length + n > this.buffer.length) {
      const grown = new Uint8Array(Math.max(this.buffer.length * 2, this.length + n));
      grown.set(this.buffer);
      this.buffer = grown;
      this.view = new DataView(grown.buffer);
    }
    const at = this.length;
    this.length += n;
    return at;
  }

  u32(v: number) {
    const at = this.reserve(4);
    this.view.setUint32(at, v, true);
  }
  i32(v: number) {
    const at = this.reserve(4);
    this.view.setInt32(at, v, true);
  }
  f32(v: number) {
    const at = this.reserve(4);
    this.view.setFloat32(at, v, true);
  }
  u64(v: number) {
    const at = this.reserve(8);
    this.view.setBigUint64(at, BigInt(v), true);
  }
  bytes(b: Uint8Array) {
    const at = this.reserve(b.length);
    this.buffer.set(b, at);
  }
  string(s: string) {
    const encoded = new TextEncoder().encode(s);
    this.u64(encoded.length);
    this.bytes(encoded);
  }
  finish(): Uint8Array {
    return this.buffer.slice(0, this.length);
  }
}
