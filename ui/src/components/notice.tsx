/** An action's outcome or a load error, shown as text (never markup). */
export function Notice({ message }: { message: { kind: "ok" | "error"; text: string } | null }) {
  if (!message) return null;
  return (
    <p class={`notice ${message.kind}`} role={message.kind === "error" ? "alert" : "status"}>
      {message.text}
    </p>
  );
}

export function LoadError({ error }: { error: Error | undefined }) {
  return error ? <Notice message={{ kind: "error", text: error.message }} /> : null;
}
