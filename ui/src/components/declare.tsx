/** The vhost a declaration goes to: the selected one, or a choice when "All" is selected. */
import { get } from "../api";
import { useApi } from "../hooks";
import { Select } from "./fields";

export function VhostChoice({
  value,
  onChange,
}: {
  value: string;
  onChange: (vhost: string) => void;
}) {
  const { data } = useApi(() => get<{ name: string }[]>("/api/vhosts"), []);
  const names = (data ?? []).map((v) => v.name);
  return (
    <Select
      label="Virtual host"
      name="declare-vhost"
      value={value}
      options={names.length > 0 ? names : [value]}
      onChange={onChange}
    />
  );
}
