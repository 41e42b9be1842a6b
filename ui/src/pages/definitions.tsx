/** Administrators: export the broker's definitions as a file, import a file (all or nothing). */
import { useState } from "preact/hooks";
import { get, post } from "../api";
import { Notice } from "../components/notice";
import { useAction } from "../hooks";

export function DefinitionsPage() {
  const action = useAction();
  const [file, setFile] = useState<File | null>(null);

  const download = () =>
    action.run(async () => {
      const definitions = await get<unknown>("/api/definitions");
      const blob = new Blob([JSON.stringify(definitions, null, 2)], { type: "application/json" });
      const url = URL.createObjectURL(blob);
      const link = document.createElement("a");
      link.href = url;
      link.download = `definitions-${new Date().toISOString().slice(0, 10)}.json`;
      link.click();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
      return "Definitions downloaded.";
    });

  const upload = (event: Event) => {
    event.preventDefault();
    void action.run(async () => {
      if (!file) throw new Error("Choose a definitions file first.");
      let parsed: unknown;
      try {
        parsed = JSON.parse(await file.text());
      } catch {
        throw new Error("The file is not JSON.");
      }
      await post("/api/definitions", parsed);
      return `Definitions from '${file.name}' imported.`;
    });
  };

  return (
    <section>
      <h1>Definitions</h1>
      <div class="panel">
        <h2>Export</h2>
        <p class="muted">
          Users (password hashes only), virtual hosts, permissions, limits, exchanges, queues and
          bindings, in RabbitMQ's format.
        </p>
        <button type="button" onClick={download} data-testid="export-definitions">
          Download broker definitions
        </button>
      </div>
      <form class="panel" onSubmit={upload} data-testid="import-definitions">
        <h2>Import</h2>
        <p class="muted">
          A file exported from this broker or from RabbitMQ; applied all or nothing.
        </p>
        <input
          type="file"
          name="definitions-file"
          accept="application/json,.json"
          onChange={(event) => setFile((event.target as HTMLInputElement).files?.[0] ?? null)}
        />
        <button type="submit">Upload broker definitions</button>
      </form>
      <Notice message={action.message} />
    </section>
  );
}
