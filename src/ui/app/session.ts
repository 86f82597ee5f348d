/**
 * The signed-in key lives in this tab's sessionStorage only: gone when the tab closes, never in a
 * cookie (so the browser never attaches it to a request by itself, and there is nothing to forge
 * a cross-site request with), never in localStorage or the URL.
 */
const KEY = "enclave.console.key";

export function storedKey(): string | null {
  try {
    return sessionStorage.getItem(KEY);
  } catch {
    return null;
  }
}

export function storeKey(key: string | null): void {
  try {
    if (key == null) sessionStorage.removeItem(KEY);
    else sessionStorage.setItem(KEY, key);
  } catch {
    // Storage disabled: the key lives in memory until the page reloads.
  }
}
