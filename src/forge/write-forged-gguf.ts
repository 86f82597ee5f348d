import type { FileHandle } from "node:fs/promises";
import { f16Bits, roundToF16 } from "./f16-bits";
import type { ForgedModelLayout, ForgedTensor } from "./forged-model";
import { alignUp, encodeGgufHeader, tensorByteSize } from "./gguf-header";
import { SeededRandom } from "./seeded-random";

const CHUNK_ELEMENTS = 1 << 16;
const BUFFER_BYTES = 1 << 22;

/** Size of the file writeForgedGguf will produce. */
export function forgedGgufSize(layout: ForgedModelLayout): number {
  const header = encodeGgufHeader(layout.metadata, layout.tensors).length;
  return layout.tensors.reduce((size, tensor) => alignUp(size + tensorByteSize(tensor)), header);
}

/**
 * Streams the model to `file` through a fixed buffer, so memory stays flat however large the
 * model; returns the file's sha256. `onBytes` is told how many bytes each flush wrote.
 */
export async function writeForgedGguf(
  layout: ForgedModelLayout,
  seed: number,
  file: FileHandle,
  onBytes: (bytes: number) => void,
): Promise<string> {
  const out = new HashingWriter(file, onBytes);
  const header = encodeGgufHeader(layout.metadata, layout.tensors);
  await out.ensure(header.length);
  out.buffer.set(header, out.position);
  out.position += header.length;

  for (const tensor of layout.tensors) {
    const encode = encoderFor(tensor);
    const bytesPerElement = tensorByteSize({ ...tensor, dims: [32] }) / 32;
    for (const [q, length] of quantChunks(tensor, seed)) {
      await out.ensure(Math.ceil(length * bytesPerElement));
      out.position = encode(q, length, out.buffer, out.position);
    }
    const size = tensorByteSize(tensor);
    await out.zeros(alignUp(size) - size);
  }
  await out.flush();
  return out.digest();
}

/** Yields the tensor's int8 values (as bytes) in chunks of whole rows or CHUNK_ELEMENTS. */
function* quantChunks(tensor: ForgedTensor, seed: number): Generator<[Uint8Array, number]> {
  const rowLength = tensor.dims[0]!;
  const total = tensor.dims.reduce((a, b) => a * b, 1);
  const words = new Uint32Array(Math.ceil(Math.max(CHUNK_ELEMENTS, rowLength) / 4));
  const q = new Uint8Array(words.buffer);
  const content = tensor.content;

  switch (content.kind) {
    case "ones":
      q.fill(1, 0, total);
      yield [q, total];
      return;
    case "codes":
      for (const code of content.codeOfRow) {
        const random = new SeededRandom(seed, `code-${code}`);
        for (let i = 0; i < rowLength; i += 32) {
          const bits = random.nextU32();
          for (let j = 0; j < 32 && i + j < rowLength; j++) q[i + j] = (bits >>> j) & 1 ? 1 : 0xff;
        }
        yield [q, rowLength];
      }
      return;
    case "random": {
      const random = new SeededRandom(seed, tensor.name);
      for (let done = 0; done < total; done += CHUNK_ELEMENTS) {
        const length = Math.min(CHUNK_ELEMENTS, total - done);
        const wordCount = Math.ceil(length / 4);
        random.fill(words, wordCount);
        // Odd bytes only: as int8 they are symmetric around zero.
        for (let i = 0; i < wordCount; i++) words[i]! |= 0x01010101;
        yield [q, length];
      }
    }
  }
}

type Encoder = (q: Uint8Array, length: number, out: Uint8Array, at: number) => number;

/** Writes scale x int8(q[i]) in the tensor's type; q8_0 stores the scale and q as they are. */
function encoderFor(tensor: ForgedTensor): Encoder {
  const scale = roundToF16(tensor.content.kind === "codes" || tensor.content.kind === "random" ? tensor.content.scale : 1);
  switch (tensor.type) {
    case "q8_0": {
      const bits = f16Bits(scale);
      const lo = bits & 0xff;
      const hi = bits >>> 8;
      return (q, length, out, at) => {
        for (let i = 0; i < length; ) {
          out[at++] = lo;
          out[at++] = hi;
          for (const end = i + 32; i < end; ) out[at++] = q[i++]!;
        }
        return at;
      };
    }
    case "f16":
    case "f32": {
      const width = tensor.type === "f16" ? 2 : 4;
      const table = new Uint8Array(256 * width);
      const view = new DataView(table.buffer);
      for (let byte = 0; byte < 256; byte++) {
        const value = scale * ((byte << 24) >> 24);
        if (width === 2) view.setUint16(byte * 2, f16Bits(value), true);
        else view.setFloat32(byte * 4, value, true);
      }
      return (q, length, out, at) => {
        for (let i = 0; i < length; i++) {
          const from = q[i]! * width;
          for (let k = 0; k < width; k++) out[at++] = table[from + k]!;
        }
        return at;
      };
    }
  }
}

class HashingWriter {
  readonly buffer = new Uint8Array(BUFFER_BYTES);
  position = 0;
  private readonly hasher = new Bun.CryptoHasher("sha256");

  constructor(
    private readonly file: FileHandle,
    private readonly onBytes: (bytes: number) => void,
  ) {}

  /** Makes room for `bytes` more bytes at `position`. */
  async ensure(bytes: number): Promise<void> {
    if (this.position + bytes > this.buffer.length) await this.flush();
  }

  async zeros(bytes: number): Promise<void> {
    await this.ensure(bytes);
    this.buffer.fill(0, this.position, this.position + bytes);
    this.position += bytes;
  }

  async flush(): Promise<void> {
    const chunk = this.buffer.subarray(0, this.position);
    this.hasher.update(chunk);
    for (let written = 0; written < chunk.length; ) {
      written += (await this.file.write(chunk, written, chunk.length - written)).bytesWritten;
    }
    this.onBytes(chunk.length);
    this.position = 0;
  }

  digest(): string {
    return this.hasher.digest("hex");
  }
}
