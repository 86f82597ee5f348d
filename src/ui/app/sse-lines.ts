/**
 * Splits a server-sent-event stream into its `data:` payloads as bytes arrive. Feed it text
 * chunks in order; it returns the payloads completed so far and keeps a partial line for later.
 */
export function createSseParser() {
  let buffer = "";
  let data: string[] = [];
  return {
    push(chunk: string): string[] {
      buffer += chunk;
      const payloads: string[] = [];
      let newline: number;
      while ((newline = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, newline).replace(/\r$/, "");
        buffer = buffer.slice(newline + 1);
        if (line === "") {
          if (data.length > 0) payloads.push(data.join("\n"));
          data = [];
        } else if (line.startsWith("data:")) data.push(line.slice(line.startsWith("data: ") ? 6 : 5));
      }
      return payloads;
    },
  };
}
