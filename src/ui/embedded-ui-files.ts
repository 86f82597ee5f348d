/**
 * The console's files as scripts/build.ts embeds them into the compiled binary: the build replaces
 * this module with one that imports each file (`with { type: "file" }`). From source it is null,
 * and the console is bundled in memory on first use instead (src/ui/build-ui.ts, the same build).
 */
export const embeddedUiFiles: ReadonlyArray<{ name: string; path: string }> | null = null;
