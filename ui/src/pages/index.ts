/**
 * Every page of the UI, in menu order. A new resource (streams, policies) is one file in pages/
 * and one entry here: the menu, the route and the administrator gate follow from the entry.
 * `admin` pages are hidden from other users; the API refuses them their calls either way.
 */
import type { FunctionComponent } from "preact";
import { DefinitionsPage } from "./definitions";
import { ExchangePage, ExchangesPage } from "./exchanges";
import { NotificationsPage } from "./notifications";
import { OverviewPage } from "./overview";
import { QueuePage } from "./queue";
import { QueuesPage } from "./queues";
import { TopicPage, TopicsPage } from "./topics";
import { UserPage, UsersPage } from "./users";
import { VhostsPage } from "./vhosts";

export interface PageProps {
  /** The route's segments after the page's own (`#/queues/%2F/orders` gives ["/", "orders"]). */
  readonly args: readonly string[];
}

export interface PageDef {
  readonly path: string;
  readonly title: string;
  readonly admin: boolean;
  /** The list page, and the detail page for a route with arguments (if any). */
  readonly list: FunctionComponent<PageProps>;
  readonly detail?: FunctionComponent<PageProps>;
}

export const PAGES: readonly PageDef[] = [
  { path: "overview", title: "Overview", admin: false, list: OverviewPage },
  {
    path: "exchanges",
    title: "Exchanges",
    admin: false,
    list: ExchangesPage,
    detail: ExchangePage,
  },
  { path: "queues", title: "Queues", admin: false, list: QueuesPage, detail: QueuePage },
  { path: "topics", title: "Topics", admin: false, list: TopicsPage, detail: TopicPage },
  { path: "users", title: "Users", admin: true, list: UsersPage, detail: UserPage },
  { path: "vhosts", title: "Virtual hosts", admin: true, list: VhostsPage },
  { path: "definitions", title: "Definitions", admin: true, list: DefinitionsPage },
  { path: "notifications", title: "Notifications", admin: false, list: NotificationsPage },
];
