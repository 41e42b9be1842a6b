/** Loading data from the API: the latest answer, the error, a reload, optional polling. */
import { useCallback, useEffect, useRef, useState } from "preact/hooks";

export interface Loaded<T> {
  readonly data: T | undefined;
  readonly error: Error | undefined;
  readonly reload: () => void;
}

export function useApi<T>(load: () => Promise<T>, deps: unknown[], pollMs = 0): Loaded<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<Error | undefined>(undefined);
  const generation = useRef(0);
  const reload = useCallback(() => {
    const mine = ++generation.current;
    return load().then(
      (value) => {
        if (mine !== generation.current) return; // an older answer arriving late
        setData(value);
        setError(undefined);
      },
      (failure: unknown) => {
        if (mine !== generation.current) return;
        setError(failure instanceof Error ? failure : new Error(String(failure)));
      },
    );
  }, deps);
  useEffect(() => {
    // The next poll is scheduled when the answer arrives, so a slow answer (an overview over
    // thousands of queues) never piles requests up.
    let timer: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;
    const cycle = () => {
      void reload().finally(() => {
        if (!stopped && pollMs > 0) timer = setTimeout(cycle, pollMs);
      });
    };
    cycle();
    return () => {
      stopped = true;
      clearTimeout(timer);
      generation.current++;
    };
  }, [reload, pollMs]);
  return { data, error, reload: () => void reload() };
}

/** Runs an action, keeping its outcome (an error or a success message) for display. */
export function useAction(): {
  readonly message: { kind: "ok" | "error"; text: string } | null;
  readonly run: (action: () => Promise<string | undefined>) => Promise<boolean>;
  readonly clear: () => void;
} {
  const [message, setMessage] = useState<{ kind: "ok" | "error"; text: string } | null>(null);
  const run = useCallback(async (action: () => Promise<string | undefined>) => {
    try {
      const text = await action();
      setMessage(text ? { kind: "ok", text } : null);
      return true;
    } catch (failure) {
      setMessage({
        kind: "error",
        text: failure instanceof Error ? failure.message : String(failure),
      });
      return false;
    }
  }, []);
  return { message, run, clear: () => setMessage(null) };
}
