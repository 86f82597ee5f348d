const half = new Float16Array(1);
const halfBits = new Uint16Array(half.buffer);

/** IEEE binary16 bits of `value`, rounded to nearest even as Float16Array specifies. */
export function f16Bits(value: number): number {
  half[0] = value;
  return halfBits[0]!;
}

/** `value` rounded to the nearest binary16 value. */
export function roundToF16(value: number): number {
  half[0] = value;
  return half[0]!;
}
