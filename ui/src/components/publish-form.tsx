/**
 * Publish a message (routing key, properties, headers, payload) through
 * POST /api/exchanges/{vhost}/{exchange}/publish, and show whether it was routed.
 */
import { useState } from "preact/hooks";
import { post, seg } from "../api";
import { Select, TableEditor, Text, tableOf, useTableRows } from "./fields";
import { Notice } from "./notice";

export function PublishForm({
  vhost,
  exchange,
  routingKey = "",
  onPublished,
}: {
  vhost: string;
  exchange: string;
  routingKey?: string;
  onPublished?: () => void;
}) {
  const [key, setKey] = useState(routingKey);
  const [deliveryMode, setDeliveryMode] = useState("2");
  const [contentType, setContentType] = useState("");
  const [headers, setHeaders] = useTableRows();
  const [properties, setProperties] = useTableRows();
  const [payload, setPayload] = useState("");
  const [encoding, setEncoding] = useState("string");
  const [message, setMessage] = useState<{ kind: "ok" | "error"; text: string } | null>(null);

  const submit = async (event: Event) => {
    event.preventDefault();
    try {
      const props: Record<string, unknown> = {
        ...tableOf(properties),
        delivery_mode: Number(deliveryMode),
      };
      if (contentType) props.content_type = contentType;
      const headerTable = tableOf(headers);
      if (Object.keys(headerTable).length > 0) props.headers = headerTable;
      const answer = await post<{ routed: boolean }>(
        `/api/exchanges/${seg(vhost)}/${seg(exchange || "amq.default")}/publish`,
        { properties: props, routing_key: key, payload, payload_encoding: encoding },
      );
      setMessage(
        answer.routed
          ? { kind: "ok", text: "Message published and routed." }
          : { kind: "error", text: "Message published, but not routed to any queue." },
      );
      onPublished?.();
    } catch (failure) {
      setMessage({
        kind: "error",
        text: failure instanceof Error ? failure.message : String(failure),
      });
    }
  };

  return (
    <form class="panel" onSubmit={submit} data-testid="publish-form">
      <h2>Publish message</h2>
      <Text label="Routing key" name="routing-key" value={key} onInput={setKey} />
      <Select
        label="Delivery mode"
        name="delivery-mode"
        value={deliveryMode}
        options={[
          ["1", "1 - Non-persistent"],
          ["2", "2 - Persistent"],
        ]}
        onChange={setDeliveryMode}
      />
      <Text label="Content type" name="content-type" value={contentType} onInput={setContentType} />
      <TableEditor label="Headers" name="headers" rows={headers} onChange={setHeaders} />
      <TableEditor
        label="Properties (message_id, correlation_id, …)"
        name="properties"
        rows={properties}
        onChange={setProperties}
      />
      <label class="field">
        <span>Payload</span>
        <textarea
          name="payload"
          rows={5}
          value={payload}
          onInput={(event) => setPayload((event.target as HTMLTextAreaElement).value)}
        />
      </label>
      <Select
        label="Payload encoding"
        name="payload-encoding"
        value={encoding}
        options={[
          ["string", "String (UTF-8)"],
          ["base64", "Base64"],
        ]}
        onChange={setEncoding}
      />
      <button type="submit">Publish message</button>
      <Notice message={message} />
    </form>
  );
}
