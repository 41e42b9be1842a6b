/**
 * Form fields: a labelled input, a checkbox, and a typed key/value editor for AMQP tables
 * (queue and exchange arguments, message headers), as RabbitMQ's UI edits them.
 */
import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";

export function Field({ label, children }: { label: string; children: ComponentChildren }) {
  return (
    // biome-ignore lint/a11y/noLabelWithoutControl: the control is passed as children
    <label class="field">
      <span>{label}</span>
      {children}
    </label>
  );
}

export function Text({
  label,
  value,
  onInput,
  name,
  type = "text",
  required = false,
  placeholder,
}: {
  label: string;
  value: string;
  onInput: (value: string) => void;
  name: string;
  type?: "text" | "password" | "number";
  required?: boolean;
  placeholder?: string;
}) {
  const common = {
    name,
    value,
    required,
    onInput: (event: Event) => onInput((event.target as HTMLInputElement).value),
  };
  return (
    <Field label={label}>
      {type === "password" ? (
        <input type="password" autoComplete="current-password" {...common} />
      ) : type === "number" ? (
        <input type="number" placeholder={placeholder} autoComplete="off" {...common} />
      ) : (
        <input type="text" placeholder={placeholder} autoComplete="off" {...common} />
      )}
    </Field>
  );
}

export function Check({
  label,
  checked,
  onChange,
  name,
}: {
  label: string;
  checked: boolean;
  onChange: (checked: boolean) => void;
  name: string;
}) {
  return (
    <label class="check">
      <input
        type="checkbox"
        name={name}
        checked={checked}
        onChange={(event) => onChange((event.target as HTMLInputElement).checked)}
      />
      {label}
    </label>
  );
}

export function Select({
  label,
  value,
  options,
  onChange,
  name,
}: {
  label: string;
  value: string;
  options: readonly (string | readonly [string, string])[];
  onChange: (value: string) => void;
  name: string;
}) {
  return (
    <Field label={label}>
      <select
        name={name}
        value={value}
        onChange={(event) => onChange((event.target as HTMLSelectElement).value)}
      >
        {options.map((option) => {
          const [key, text] = typeof option === "string" ? [option, option] : option;
          return (
            <option key={key} value={key}>
              {text}
            </option>
          );
        })}
      </select>
    </Field>
  );
}

type Kind = "string" | "number" | "boolean";
interface Row {
  key: string;
  value: string;
  kind: Kind;
}

/** The rows as an AMQP table; throws on a number or boolean that does not parse. */
export function tableOf(rows: readonly Row[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const row of rows) {
    if (row.key.trim() === "") continue;
    if (row.kind === "number") {
      const n = Number(row.value);
      if (row.value.trim() === "" || !Number.isFinite(n)) {
        throw new Error(`'${row.key}' must be a number`);
      }
      out[row.key] = n;
    } else if (row.kind === "boolean") {
      out[row.key] = row.value === "true";
    } else {
      out[row.key] = row.value;
    }
  }
  return out;
}

export function useTableRows(): [Row[], (rows: Row[]) => void] {
  return useState<Row[]>([{ key: "", value: "", kind: "string" }]);
}

export function TableEditor({
  label,
  rows,
  onChange,
  name,
}: {
  label: string;
  rows: Row[];
  onChange: (rows: Row[]) => void;
  name: string;
}) {
  const update = (index: number, patch: Partial<Row>) => {
    const next = rows.map((row, i) => (i === index ? { ...row, ...patch } : row));
    const last = next[next.length - 1];
    if (last && last.key !== "") next.push({ key: "", value: "", kind: "string" });
    onChange(next);
  };
  return (
    <fieldset class="table-editor" data-name={name}>
      <legend>{label}</legend>
      {rows.map((row, index) => (
        <div class="kv" key={index}>
          <input
            aria-label={`${label} key`}
            name={`${name}-key-${index}`}
            value={row.key}
            placeholder="key"
            onInput={(event) => update(index, { key: (event.target as HTMLInputElement).value })}
          />
          <input
            aria-label={`${label} value`}
            name={`${name}-value-${index}`}
            value={row.value}
            placeholder="value"
            onInput={(event) => update(index, { value: (event.target as HTMLInputElement).value })}
          />
          <select
            aria-label={`${label} type`}
            value={row.kind}
            onChange={(event) =>
              update(index, { kind: (event.target as HTMLSelectElement).value as Kind })
            }
          >
            <option value="string">String</option>
            <option value="number">Number</option>
            <option value="boolean">Boolean</option>
          </select>
        </div>
      ))}
    </fieldset>
  );
}
