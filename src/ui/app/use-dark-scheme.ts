import { useEffect, useState } from "preact/hooks";

const query = "(prefers-color-scheme: dark)";

/** Whether the browser asks for a dark theme now; follows a change while the page is open. */
export function useDarkScheme(): boolean {
  const [dark, setDark] = useState(() => matchMedia(query).matches);
  useEffect(() => {
    const media = matchMedia(query);
    const onChange = () => setDark(media.matches);
    media.addEventListener("change", onChange);
    return () => media.removeEventListener("change", onChange);
  }, []);
  return dark;
}
