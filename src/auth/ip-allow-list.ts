import { BlockList, isIP } from "node:net";

/** An IPv4/IPv6 address or a CIDR range such as 10.0.0.0/8 or fd00::/8. */
export function isIpOrCidr(text: string): boolean {
  const [address, bits, ...rest] = text.split("/");
  if (rest.length > 0 || address == null) return false;
  const family = isIP(address);
  if (family === 0) return false;
  if (bits == null) return true;
  if (!/^\d{1,3}$/.test(bits)) return false;
  return Number(bits) <= (family === 4 ? 32 : 128);
}

/** True when `ip` is in one of the entries; an IPv4-mapped IPv6 address (::ffff:a.b.c.d) counts as its IPv4 form. */
export function ipAllowed(entries: readonly string[], ip: string | null): boolean {
  if (ip == null) return false;
  const list = new BlockList();
  for (const entry of entries) {
    const [address = "", bits] = entry.split("/");
    const type = isIP(address) === 4 ? "ipv4" : "ipv6";
    if (bits == null) list.addAddress(address, type);
    else list.addSubnet(address, Number(bits), type);
  }
  const mapped = ip.match(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i)?.[1];
  const candidate = mapped ?? ip;
  const family = isIP(candidate);
  return family !== 0 && list.check(candidate, family === 4 ? "ipv4" : "ipv6");
}

/** True when every address of `entry` (an IP or CIDR range) lies in one range or address of `within`. */
export function ipEntryWithin(entry: string, within: readonly string[]): boolean {
  const [address = "", bits] = entry.split("/");
  const family = isIP(address);
  const width = family === 4 ? 32 : 128;
  const prefix = bits == null ? width : Number(bits);
  return within.some((outer) => {
    const [outerAddress = "", outerBits] = outer.split("/");
    if (isIP(outerAddress) !== family) return false;
    // A range no narrower than the entry's that holds one of its addresses holds all of them.
    return (outerBits == null ? width : Number(outerBits)) <= prefix && ipAllowed([outer], address);
  });
}
