/**
 * Plays the child that node-llama-cpp forks to test a native binary before loading it: its
 * testBindingBinary module does the work as soon as it is evaluated. That module announces
 * "ready" from inside an import cycle, before the Llama module it then uses has finished loading
 * in the bundle, so a "start" that came back in that window failed the test (seen under load).
 * Holding the announcement until node-llama-cpp has loaded completely closes the window.
 */
export async function runBindingTestChild(): Promise<void> {
  const send = process.send;
  if (send == null) throw new Error("the binding test child needs an IPC channel to its parent");
  const held: unknown[][] = [];
  process.send = ((...args: unknown[]) => {
    held.push(args);
    return true;
  }) as typeof send;
  try {
    await import("node-llama-cpp");
  } finally {
    process.send = send;
  }
  for (const args of held) Reflect.apply(send, process, args);
}
