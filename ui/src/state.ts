/** UI state shared by pages: the selected vhost ("" = all the user may see) and the vhost list. */
import { useEffect, useState } from "preact/hooks";

let selected = "";
const listeners = new Set<(vhost: string) => void>();

export const selectedVhost = (): string => selected;

export function selectVhost(vhost: string): void {
  selected = vhost;
  for (const listener of listeners) listener(vhost);
}

export function useSelectedVhost(): string {
  const [vhost, setVhost] = useState(selected);
  useEffect(() => {
    listeners.add(setVhost);
    return () => {
      listeners.delete(setVhost);
    };
  }, []);
  return vhost;
}
