/** Totals (queues, exchanges, messages, consumers, connections) and live message-rate charts. */
import { useEffect, useState } from "preact/hooks";
import { get, type Overview, rate } from "../api";
import { addSample, emptySamples, RateChart, type Samples, type Series } from "../components/chart";
import { LoadError } from "../components/notice";
import { formatCount } from "../format";
import { useApi } from "../hooks";

export const RATE_SERIES: readonly Series[] = [
  { label: "publish", color: "#c05a00" },
  { label: "deliver_get", color: "#1f6fb2" },
  { label: "ack", color: "#2b8a3e" },
  { label: "redeliver", color: "#9c36b5" },
];
const MESSAGE_SERIES: readonly Series[] = [
  { label: "ready", color: "#c05a00" },
  { label: "unacked", color: "#1f6fb2" },
];
export const POLL_MS = 2000;

export function OverviewPage() {
  const { data, error } = useApi(() => get<Overview>("/api/overview"), [], POLL_MS);
  const [rates, setRates] = useState<Samples>(() => emptySamples(RATE_SERIES));
  const [depth, setDepth] = useState<Samples>(() => emptySamples(MESSAGE_SERIES));

  useEffect(() => {
    if (!data) return;
    const now = Date.now() / 1000;
    setRates((s) =>
      addSample(
        s,
        now,
        RATE_SERIES.map((series) => rate(data.message_stats, series.label)),
      ),
    );
    setDepth((s) =>
      addSample(s, now, [
        data.queue_totals.messages_ready ?? 0,
        data.queue_totals.messages_unacknowledged ?? 0,
      ]),
    );
  }, [data]);

  const totals = data?.object_totals ?? {};
  const queued = data?.queue_totals ?? {};
  const tiles: [string, number | undefined][] = [
    ["Queues", totals.queues],
    ["Exchanges", totals.exchanges],
    ["Consumers", totals.consumers],
    ["Connections", totals.connections],
    ["Ready", queued.messages_ready],
    ["Unacked", queued.messages_unacknowledged],
    ["Total messages", queued.messages],
  ];
  return (
    <section>
      <h1>Overview</h1>
      <LoadError error={error} />
      <dl class="tiles" data-testid="totals">
        {tiles.map(([label, value]) => (
          <div key={label} data-total={label}>
            <dt>{label}</dt>
            <dd>{formatCount(value)}</dd>
          </div>
        ))}
      </dl>
      {data?.queues_counted !== undefined && data.queues_counted < (totals.queues ?? 0) && (
        <p class="notice ok" data-testid="partial-totals">
          Message totals and rates cover {formatCount(data.queues_counted)} of{" "}
          {formatCount(totals.queues)} queues (the first 2,000 of each virtual host).
        </p>
      )}
      <RateChart title="Message rates" series={RATE_SERIES} samples={rates} testId="rates-chart" />
      <RateChart
        title="Queued messages"
        series={MESSAGE_SERIES}
        samples={depth}
        testId="depth-chart"
        unit="messages"
      />
      {data && (
        <p class="muted">
          {data.product_name} {data.product_version}, management API {data.management_version}.
          Refreshes every {POLL_MS / 1000} s.
        </p>
      )}
    </section>
  );
}
