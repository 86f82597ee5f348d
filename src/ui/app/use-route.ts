import { useEffect, useState } from "preact/hooks";

export const PAGES = [
  { id: "overview", title: "Overview" },
  { id: "keys", title: "Keys & accounts" },
  { id: "usage", title: "Usage" },
  { id: "requests", title: "Request log" },
  { id: "audit", title: "Audit log" },
  { id: "privacy", title: "Privacy & residency" },
  { id: "playground", title: "Playground" },
] as const;
export type PageId = (typeof PAGES)[number]["id"];

function current(): PageId {
  const id = location.hash.replace(/^#\/?/, "");
  return PAGES.some((page) => page.id === id) ? (id as PageId) : "overview";
}

/** Hash routing (`/ui#/usage`): one static page, no server routes per view, Back works. */
export function useRoute(): PageId {
  const [page, setPage] = useState<PageId>(current);
  useEffect(() => {
    const onChange = () => setPage(current());
    addEventListener("hashchange", onChange);
    return () => removeEventListener("hashchange", onChange);
  }, []);
  return page;
}
