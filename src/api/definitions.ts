import type { Hono } from "hono";
import type { AppEnv } from "./context";
export function definitionRoutes(_app: Hono<AppEnv>): void {}
