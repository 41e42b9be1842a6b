/** A message_stats table: each event's count and rate, as RabbitMQ's object pages show them. */
import { count, type MessageStats, rate } from "../api";
import { formatCount, formatRate } from "../format";

export function StatsTable({
  stats,
  events,
}: {
  stats: MessageStats | undefined;
  events: readonly string[];
}) {
  return (
    <table class="stats" data-testid="message-stats">
      <thead>
        <tr>
          <th>Event</th>
          <th class="num">Count</th>
          <th class="num">Rate</th>
        </tr>
      </thead>
      <tbody>
        {events.map((event) => (
          <tr key={event} data-event={event}>
            <td>{event}</td>
            <td class="num">{formatCount(count(stats, event))}</td>
            <td class="num">{formatRate(rate(stats, event))}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
