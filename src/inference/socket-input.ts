import { dlopen, FFIType, ptr } from "bun:ffi";
import { readdirSync, readlinkSync } from "node:fs";

/** How long the list of the process's sockets is reused: a run asks every few milliseconds, and sockets change rarely. */
const SOCKETS_TTL_MS = 50;
/**
 * The least time between two polls, so a run of short steps makes a system call every few steps
 * rather than every one (whether one per step costs speed was within the A/B's noise), while a
 * request waits for the run's end no more than this plus a step.
 */
const POLL_EVERY_MS = 4;
const POLLIN = 0x001;
const POLLNVAL = 0x020;
/** struct pollfd: int fd; short events; short revents. */
const POLLFD_BYTES = 8;

/**
 * Whether any socket of this process has input waiting: a connection to accept, a request on a
 * kept-alive connection, a client that closed its stream. A decode run on the JavaScript thread
 * asks it between steps (`LlamaContext.runInterrupted`): the event loop cannot see a request that
 * arrives during the run, and a 3-token request arriving during two demo streams' 16 ms runs got
 * its first token after a median 19 ms against llama-server's 8. Linux only (the sockets are read
 * from /proc/self/fd and checked with poll(2) through bun:ffi); elsewhere, or without libc, there
 * is no check and runs keep their full length.
 */
export function createSocketInputCheck(): (() => boolean) | undefined {
  if (process.platform !== "linux") return undefined;
  let poll: (fds: number, count: number, timeoutMs: number) => number;
  try {
    const libc = dlopen("libc.so.6", { poll: { args: [FFIType.ptr, FFIType.u64, FFIType.i32], returns: FFIType.i32 } });
    poll = libc.symbols.poll as unknown as typeof poll;
  } catch {
    return undefined;
  }
  let pollfds = new Uint8Array(0);
  let view = new DataView(pollfds.buffer);
  let listedAt = Number.NEGATIVE_INFINITY;

  const listSockets = () => {
    const fds: number[] = [];
    for (const entry of readdirSync("/proc/self/fd")) {
      try {
        if (readlinkSync(`/proc/self/fd/${entry}`).startsWith("socket:")) fds.push(Number(entry));
      } catch {
        // closed since the directory was read
      }
    }
    pollfds = new Uint8Array(fds.length * POLLFD_BYTES);
    view = new DataView(pollfds.buffer);
    fds.forEach((fd, index) => {
      view.setInt32(index * POLLFD_BYTES, fd, true);
      view.setInt16(index * POLLFD_BYTES + 4, POLLIN, true);
    });
  };

  let polledAt = Number.NEGATIVE_INFINITY;
  return () => {
    const now = performance.now();
    if (now - polledAt < POLL_EVERY_MS) return false;
    polledAt = now;
    if (now - listedAt > SOCKETS_TTL_MS) {
      listSockets();
      listedAt = now;
    }
    if (pollfds.length === 0 || poll(ptr(pollfds) as unknown as number, pollfds.length / POLLFD_BYTES, 0) <= 0) return false;
    let input = false;
    for (let offset = 0; offset < pollfds.length; offset += POLLFD_BYTES) {
      const events = view.getInt16(offset + 6, true);
      // A socket closed since the list was made: list them again next time.
      if ((events & POLLNVAL) !== 0) listedAt = Number.NEGATIVE_INFINITY;
      else if (events !== 0) input = true;
    }
    return input;
  };
}
